/**
 * Signed log statements: everything the verifier signs into its log is one
 * of these, and each is logged the same way. The log entry of a statement is
 * the JSON of its claims without `log`: RFC 8785 canonical JSON for a v2
 * receipt, keys in the order its format fixes for the others
 * (docs/formats.md, "Signed log statements"); the signed statement (a compact
 * JWS) adds `log: { index, leaf_hash }`, so anyone holding it can recompute
 * the leaf and check its inclusion against a checkpoint.
 */
import { toHex } from '../bytes.js';
import { leafHash } from '../merkle/merkle.js';
import { KEY_RELEASE_FORMAT, KEY_RELEASE_HEADER_TYPE } from '../seal/key-release.js';
import { orderedKeyRelease, type KeyReleaseEntry } from './key-release-statement.js';
import {
  POLICY_CHANGE_HEADER_TYPE,
  POLICY_CHANGE_TYPE,
  orderedPolicyChange,
  type PolicyChangeEntry,
} from './policy-change.js';
import canonicalize from 'canonicalize';
import {
  RECEIPT_HEADER_TYPE,
  RECEIPT_TYPE,
  RECEIPT_TYPE_V1,
  orderedReceipt,
  type ReceiptEntry,
} from './receipt.js';

/** A statement's claims as logged (without `log`). */
export type LogStatement = ReceiptEntry | PolicyChangeEntry | KeyReleaseEntry;

/** The statement format tags, as `typ` of the claims and of the JWS header. */
export const STATEMENT_TYPES = [
  RECEIPT_TYPE,
  RECEIPT_TYPE_V1,
  POLICY_CHANGE_TYPE,
  KEY_RELEASE_FORMAT,
] as const;

/**
 * The JWS header `typ` a statement is signed with: an RFC 8725 media type
 * (`application/` left out, as section 3.11 allows). Version 1 receipts, and
 * statements signed before these types, carry their format tag instead.
 */
export function statementHeaderType(typ: LogStatement['typ']): string {
  switch (typ) {
    case RECEIPT_TYPE:
      return RECEIPT_HEADER_TYPE;
    case POLICY_CHANGE_TYPE:
      return POLICY_CHANGE_HEADER_TYPE;
    case KEY_RELEASE_FORMAT:
      return KEY_RELEASE_HEADER_TYPE;
    case RECEIPT_TYPE_V1:
      return RECEIPT_TYPE_V1;
  }
}

/** Where a statement sits in the log, as its signed form says. */
export interface LogPosition {
  readonly index: number;
  /** RFC 9162 leaf hash of the entry, hex. */
  readonly leaf_hash: string;
}

/** The log entry of a statement: the exact bytes its leaf hashes. */
export function statementEntryBytes(statement: LogStatement): Uint8Array {
  let ordered: object;
  switch (statement.typ) {
    case RECEIPT_TYPE:
      // RFC 8785 (JCS): sorted keys, ECMAScript number and string forms, no whitespace.
      return new TextEncoder().encode(canonicalize(statement) ?? '');
    case RECEIPT_TYPE_V1:
      ordered = orderedReceipt(statement);
      break;
    case POLICY_CHANGE_TYPE:
      ordered = orderedPolicyChange(statement);
      break;
    case KEY_RELEASE_FORMAT:
      ordered = orderedKeyRelease(statement);
      break;
  }
  // JSON.stringify drops undefined members, so absent optional fields leave no trace.
  return new TextEncoder().encode(JSON.stringify(ordered));
}

/** The RFC 9162 leaf hash of a statement's entry, hex; `entry` when the caller has its bytes. */
export function statementLeafHash(
  statement: LogStatement,
  entry: Uint8Array = statementEntryBytes(statement),
): string {
  return toHex(leafHash(entry));
}

/**
 * The claims a statement is signed with: its entry plus its place in the log.
 * `entry` is the statement's entry bytes when the caller already has them.
 */
export function signedStatementClaims<T extends LogStatement>(
  statement: T,
  index: number,
  entry: Uint8Array = statementEntryBytes(statement),
): T & { readonly log: LogPosition } {
  return { ...statement, log: { index, leaf_hash: statementLeafHash(statement, entry) } };
}
