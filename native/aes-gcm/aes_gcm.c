/*
 * dos_aes_gcm: AES-256-GCM through the system's OpenSSL 3 (libcrypto.so.3), for Node-API.
 *
 * Why it exists: the OpenSSL built into Node 20's binaries lacks OpenSSL's stitched AES-NI +
 * carry-less-multiply GCM code, so node:crypto seals and opens about 0.85 GB/s on the x86-64
 * machines here, while the system's libcrypto (same OpenSSL 3.0 series) runs about 3.5 GB/s.
 * Every byte dos stores or reads goes through GCM once, so this is the mount's cold read and
 * the put of photos and videos. The bytes are the same AES-256-GCM either way; src/core/aes-gcm.ts
 * checks that against node:crypto before using this, and falls back to node:crypto when this
 * addon or libcrypto.so.3 is missing.
 *
 * libcrypto is opened with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) rather than linked: Node exports
 * its own OpenSSL's symbols, and without DEEPBIND the system library's calls into itself could
 * bind to Node's copy, mixing two OpenSSLs' internals. Linking nothing also means no -dev
 * package is needed to build this, only the runtime library (Debian/Ubuntu: libssl3).
 *
 * Each Node environment (main thread, every worker) keeps one cipher context, freed with it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <node_api.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;

#define EVP_CTRL_GCM_GET_TAG 0x10
#define EVP_CTRL_GCM_SET_TAG 0x11
#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16
/* EVP's lengths are ints: feed it at most this much per call. */
#define MAX_STEP (1 << 30)

static struct {
  EVP_CIPHER_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_CIPHER_CTX *);
  EVP_CIPHER *(*cipher_fetch)(void *libctx, const char *algorithm, const char *properties);
  int (*init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, void *engine, const unsigned char *key, const unsigned char *iv, int enc);
  int (*update)(EVP_CIPHER_CTX *, unsigned char *out, int *out_length, const unsigned char *in, int in_length);
  int (*final)(EVP_CIPHER_CTX *, unsigned char *out, int *out_length);
  int (*ctrl)(EVP_CIPHER_CTX *, int type, int arg, void *ptr);
  const char *(*version)(int type);
  EVP_CIPHER *gcm; /* fetched once: an implicit fetch on every init costs more than a small frame */
  char error[256];
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_libcrypto(void) {
  void *handle = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == NULL) {
    snprintf(lib.error, sizeof lib.error, "cannot load libcrypto.so.3: %s", dlerror());
    return;
  }
#define BIND(field, symbol)                                                                    \
  do {                                                                                         \
    *(void **)(&lib.field) = dlsym(handle, symbol);                                            \
    if (lib.field == NULL) {                                                                   \
      snprintf(lib.error, sizeof lib.error, "libcrypto.so.3 has no %s", symbol);               \
      return;                                                                                  \
    }                                                                                          \
  } while (0)
  BIND(ctx_new, "EVP_CIPHER_CTX_new");
  BIND(ctx_free, "EVP_CIPHER_CTX_free");
  BIND(cipher_fetch, "EVP_CIPHER_fetch");
  BIND(init, "EVP_CipherInit_ex");
  BIND(update, "EVP_CipherUpdate");
  BIND(final, "EVP_CipherFinal_ex");
  BIND(ctrl, "EVP_CIPHER_CTX_ctrl");
  BIND(version, "OpenSSL_version");
#undef BIND
  lib.gcm = lib.cipher_fetch(NULL, "AES-256-GCM", NULL);
  if (lib.gcm == NULL) snprintf(lib.error, sizeof lib.error, "libcrypto.so.3 offers no AES-256-GCM");
}

static void free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  lib.ctx_free((EVP_CIPHER_CTX *)data);
}

static EVP_CIPHER_CTX *context_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) == napi_ok && data != NULL) return data;
  EVP_CIPHER_CTX *ctx = lib.ctx_new();
  if (ctx == NULL) return NULL;
  if (napi_set_instance_data(env, ctx, free_context, NULL) != napi_ok) {
    lib.ctx_free(ctx);
    return NULL;
  }
  return ctx;
}

typedef struct {
  unsigned char *data;
  size_t length;
} bytes_t;

/* A Uint8Array (Buffer included) argument, or a thrown TypeError naming it. */
static int get_bytes(napi_env env, napi_value value, const char *name, bytes_t *out) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, &out->length, (void **)&out->data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a Uint8Array", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return 0;
  }
  return 1;
}

static int require_length(napi_env env, const bytes_t *b, const char *name, size_t wanted, int at_least) {
  if (at_least ? b->length >= wanted : b->length == wanted) return 1;
  char message[128];
  snprintf(message, sizeof message, "%s must be %s%zu bytes, not %zu", name, at_least ? "at least " : "", wanted, b->length);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  return 0;
}

static int run(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in, size_t length) {
  for (size_t done = 0; done < length;) {
    int step = length - done > MAX_STEP ? MAX_STEP : (int)(length - done);
    int written = 0;
    if (lib.update(ctx, out + done, &written, in + done, step) != 1 || written != step) return 0;
    done += (size_t)step;
  }
  return 1;
}

static int start(EVP_CIPHER_CTX *ctx, const bytes_t *key, const bytes_t *nonce, const bytes_t *aad, int encrypt) {
  int ignored = 0;
  if (lib.init(ctx, lib.gcm, NULL, key->data, nonce->data, encrypt) != 1) return 0;
  return aad->length == 0 || (aad->length <= MAX_STEP && lib.update(ctx, NULL, &ignored, aad->data, (int)aad->length) == 1);
}

/* Reads `count` arguments into argv, or throws with the call's usage. */
static int get_args(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *usage) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc >= count) return 1;
  napi_throw_type_error(env, "ERR_MISSING_ARGS", usage);
  return 0;
}

/* The key, nonce and associated data every call starts with. */
static int get_cipher_inputs(napi_env env, napi_value *argv, bytes_t *key, bytes_t *nonce, bytes_t *aad) {
  return get_bytes(env, argv[0], "key", key) && require_length(env, key, "key", KEY_BYTES, 0) &&
         get_bytes(env, argv[1], "nonce", nonce) && require_length(env, nonce, "nonce", NONCE_BYTES, 0) &&
         get_bytes(env, argv[2], "aad", aad);
}

/* seal(key, nonce, aad, plaintext, out): out receives ciphertext || tag (plaintext.length + 16). */
static napi_value seal(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  bytes_t key, nonce, aad, plain, out;
  if (!get_args(env, info, 5, argv, "seal(key, nonce, aad, plaintext, out)") || !get_cipher_inputs(env, argv, &key, &nonce, &aad) ||
      !get_bytes(env, argv[3], "plaintext", &plain) ||
      !get_bytes(env, argv[4], "out", &out) || !require_length(env, &out, "out", plain.length + TAG_BYTES, 1))
    return NULL;
  EVP_CIPHER_CTX *ctx = context_of(env);
  int final_length = 0;
  int ok = ctx != NULL && start(ctx, &key, &nonce, &aad, 1) && run(ctx, out.data, plain.data, plain.length) &&
           lib.final(ctx, out.data + plain.length, &final_length) == 1 && final_length == 0 &&
           lib.ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out.data + plain.length) == 1;
  if (!ok) napi_throw_error(env, "ERR_DOS_AES_GCM", "AES-256-GCM sealing failed in libcrypto");
  return NULL;
}

/*
 * open(key, nonce, aad, ciphertext, tag, out) -> boolean: true when the tag authenticates; out
 * then holds the plaintext (ciphertext.length bytes). On false, out is zeroed: unauthenticated
 * plaintext never leaves this function.
 */
static napi_value open_(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  bytes_t key, nonce, aad, cipher, tag, out;
  if (!get_args(env, info, 6, argv, "open(key, nonce, aad, ciphertext, tag, out)") || !get_cipher_inputs(env, argv, &key, &nonce, &aad) ||
      !get_bytes(env, argv[3], "ciphertext", &cipher) ||
      !get_bytes(env, argv[4], "tag", &tag) || !require_length(env, &tag, "tag", TAG_BYTES, 0) ||
      !get_bytes(env, argv[5], "out", &out) || !require_length(env, &out, "out", cipher.length, 1))
    return NULL;
  EVP_CIPHER_CTX *ctx = context_of(env);
  unsigned char expected_tag[TAG_BYTES];
  memcpy(expected_tag, tag.data, TAG_BYTES); /* the tag may live inside `out` when opening in place */
  int final_length = 0;
  int ok = ctx != NULL && start(ctx, &key, &nonce, &aad, 0) && run(ctx, out.data, cipher.data, cipher.length) &&
           lib.ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, expected_tag) == 1 &&
           lib.final(ctx, out.data + cipher.length, &final_length) == 1;
  if (!ok) memset(out.data, 0, cipher.length);
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

static napi_value version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_string_utf8(env, lib.version(0), NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT() {
  pthread_once(&load_once, load_libcrypto);
  if (lib.error[0] != '\0') {
    napi_throw_error(env, "ERR_DOS_NO_LIBCRYPTO", lib.error);
    return NULL;
  }
  napi_property_descriptor methods[] = {
      {"seal", NULL, seal, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_, NULL, NULL, NULL, napi_default, NULL},
      {"version", NULL, version, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}
