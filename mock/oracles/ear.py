"""An independent check of Veritee's attestation results: python3-jwcrypto
(Debian) verifies the JWT with the verifier's JWKS, and the claims are read
as draft-ietf-rats-ear defines them. Reads {"jwt", "jwks", "nonce"} as JSON on
stdin; writes {"status", "submod", "vector"} or {"error"} as JSON on stdout."""
import json
import sys

from jwcrypto import jwk, jws

TIERS = {"none", "affirming", "warning", "contraindicated"}
VECTOR = {"instance-identity", "configuration", "executables", "file-system",
          "hardware", "runtime-opaque", "storage-opaque", "sourced-data"}


def check(request):
    keys = jwk.JWKSet.from_json(json.dumps(request["jwks"]))
    token = jws.JWS()
    token.deserialize(request["jwt"])
    header = token.jose_header
    key = keys.get_key(header["kid"])
    token.verify(key, alg="ES256")
    if header.get("typ") != "eat+jwt":
        raise ValueError("typ is %r, not eat+jwt" % header.get("typ"))
    claims = json.loads(token.payload)
    if claims.get("eat_profile") != "tag:github.com,2023:veraison/ear":
        raise ValueError("eat_profile")
    if not isinstance(claims.get("iat"), int):
        raise ValueError("iat")
    verifier_id = claims.get("ear.verifier-id")
    if not isinstance(verifier_id, dict) or not verifier_id.get("developer") or not verifier_id.get("build"):
        raise ValueError("ear.verifier-id")
    nonce = claims.get("eat_nonce")
    if request.get("nonce") is not None:
        if not isinstance(nonce, str) or not 10 <= len(nonce) <= 74:
            raise ValueError("eat_nonce")
    submods = claims.get("submods")
    if not isinstance(submods, dict) or len(submods) != 1:
        raise ValueError("submods")
    (name, appraisal), = submods.items()
    if appraisal.get("ear.status") not in TIERS:
        raise ValueError("ear.status")
    vector = appraisal.get("ear.trustworthiness-vector")
    if set(vector) != VECTOR or not all(isinstance(v, int) and -128 <= v <= 127 for v in vector.values()):
        raise ValueError("ear.trustworthiness-vector")
    return {"status": appraisal["ear.status"], "submod": name, "vector": vector, "nonce": nonce}


try:
    print(json.dumps(check(json.load(sys.stdin))))
except Exception as error:  # the caller asserts on the message
    print(json.dumps({"error": "%s: %s" % (type(error).__name__, error)}))
