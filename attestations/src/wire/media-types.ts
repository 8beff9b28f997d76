/** The Oblivious HTTP media types (RFC 9458, section 9), which the relay sees and nothing else. */
export const OHTTP_REQUEST_TYPE = 'message/ohttp-req';
export const OHTTP_RESPONSE_TYPE = 'message/ohttp-res';
export const OHTTP_KEYS_TYPE = 'application/ohttp-keys';
