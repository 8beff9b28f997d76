/*
 * The two ioctls a guest needs to ask its TEE for a quote, as a Node-API addon:
 *  - SNP_GET_EXT_REPORT on /dev/sev-guest (Linux include/uapi/linux/sev-guest.h),
 *    for kernels without configfs-tsm;
 *  - NSM_IOCTL_REQUEST on /dev/nsm (aws-nitro-enclaves-nsm-api, nsm-driver),
 *    carrying one CBOR request and its CBOR response.
 * Everything above the raw call (CBOR, report parsing) stays in TypeScript.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <node_api.h>

/* include/uapi/linux/sev-guest.h */
struct snp_report_req { uint8_t user_data[64]; uint32_t vmpl; uint8_t rsvd[28]; };
struct snp_report_resp { uint8_t data[4000]; };
struct snp_ext_report_req { struct snp_report_req data; uint64_t certs_address; uint32_t certs_len; };
struct snp_guest_request_ioctl { uint8_t msg_version; uint64_t req_data; uint64_t resp_data; uint64_t exitinfo2; };
#define SNP_GET_EXT_REPORT _IOWR('S', 0x2, struct snp_guest_request_ioctl)

/* nsm-driver: struct nsm_message { struct iovec request; struct iovec response; } */
struct nsm_message { struct iovec request; struct iovec response; };
#define NSM_IOCTL_REQUEST _IOWR(0x0A, 0, struct nsm_message)

static napi_value throw_errno(napi_env env, const char *call, int error) {
  char code[32];
  snprintf(code, sizeof code, "E%d", error);
  napi_throw_error(env, code, call);
  return NULL;
}

static int buffer_arg(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_buffer = false;
  napi_is_buffer(env, value, &is_buffer);
  if (!is_buffer) return 0;
  return napi_get_buffer_info(env, value, data, length) == napi_ok;
}

/* snpGetExtReport(fd, userData: Buffer(64), vmpl, response: Buffer(4000), certs: Buffer) -> { rc, fwError, vmmError, certsLen } */
static napi_value snp_get_ext_report(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  uint32_t vmpl = 0;
  void *user_data, *response, *certs;
  size_t user_len, response_len, certs_len;
  if (argc != 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !buffer_arg(env, argv[1], &user_data, &user_len) || user_len != 64 ||
      napi_get_value_uint32(env, argv[2], &vmpl) != napi_ok || !buffer_arg(env, argv[3], &response, &response_len) ||
      response_len != sizeof(struct snp_report_resp) || !buffer_arg(env, argv[4], &certs, &certs_len)) {
    napi_throw_type_error(env, "EINVAL", "snpGetExtReport(fd, userData[64], vmpl, response[4000], certs)");
    return NULL;
  }
  struct snp_ext_report_req request;
  memset(&request, 0, sizeof request);
  memcpy(request.data.user_data, user_data, 64);
  request.data.vmpl = vmpl;
  request.certs_address = (uint64_t)(uintptr_t)certs;
  request.certs_len = (uint32_t)certs_len;
  struct snp_guest_request_ioctl guest = { .msg_version = 1, .req_data = (uint64_t)(uintptr_t)&request, .resp_data = (uint64_t)(uintptr_t)response };
  int rc = ioctl(fd, SNP_GET_EXT_REPORT, &guest);
  int error = rc < 0 ? errno : 0;
  if (rc < 0 && error != EINVAL && error != EIO) return throw_errno(env, "SNP_GET_EXT_REPORT", error);
  napi_value result, value;
  napi_create_object(env, &result);
  napi_create_int32(env, rc < 0 ? -error : rc, &value);
  napi_set_named_property(env, result, "rc", value);
  napi_create_uint32(env, (uint32_t)(guest.exitinfo2 & 0xffffffffu), &value);
  napi_set_named_property(env, result, "fwError", value);
  napi_create_uint32(env, (uint32_t)(guest.exitinfo2 >> 32), &value);
  napi_set_named_property(env, result, "vmmError", value);
  napi_create_uint32(env, request.certs_len, &value);
  napi_set_named_property(env, result, "certsLen", value);
  return result;
}

/* nsmRequest(fd, request: Buffer, response: Buffer) -> response length */
static napi_value nsm_request(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  void *request, *response;
  size_t request_len, response_len;
  if (argc != 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !buffer_arg(env, argv[1], &request, &request_len) ||
      !buffer_arg(env, argv[2], &response, &response_len)) {
    napi_throw_type_error(env, "EINVAL", "nsmRequest(fd, request, response)");
    return NULL;
  }
  struct nsm_message message = { .request = { request, request_len }, .response = { response, response_len } };
  if (ioctl(fd, NSM_IOCTL_REQUEST, &message) < 0) return throw_errno(env, "NSM_IOCTL_REQUEST", errno);
  napi_value value;
  napi_create_uint32(env, (uint32_t)message.response.iov_len, &value);
  return value;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "snpGetExtReport", NAPI_AUTO_LENGTH, snp_get_ext_report, NULL, &fn);
  napi_set_named_property(env, exports, "snpGetExtReport", fn);
  napi_create_function(env, "nsmRequest", NAPI_AUTO_LENGTH, nsm_request, NULL, &fn);
  napi_set_named_property(env, exports, "nsmRequest", fn);
  return exports;
}
