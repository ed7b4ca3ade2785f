// OpenSSL 3 for Swift: libssl (TLS, used only by the TLS module) and libcrypto (digests and MACs, used only by
// Trust). Many OpenSSL "functions" are C macros that Swift cannot import; each one we call has a static inline
// wrapper here, named fw_ + the macro's name. Nothing else lives in this header.
#ifndef FLEETWIRE_COPENSSL_SHIM_H
#define FLEETWIRE_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <openssl/tls1.h>

static inline long fw_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long fw_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline long fw_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long fw_SSL_CTX_set_tlsext_ticket_keys(SSL_CTX *ctx, unsigned char *keys, long length) {
    return SSL_CTX_set_tlsext_ticket_keys(ctx, keys, length);
}
static inline int fw_SSL_set_app_data(SSL *ssl, void *data) { return SSL_set_app_data(ssl, data); }
static inline void *fw_SSL_get_app_data(const SSL *ssl) { return SSL_get_app_data(ssl); }
static inline int fw_SSL_CTX_set_app_data(SSL_CTX *ctx, void *data) { return SSL_CTX_set_app_data(ctx, data); }
static inline void *fw_SSL_CTX_get_app_data(const SSL_CTX *ctx) { return SSL_CTX_get_app_data(ctx); }
static inline long fw_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long fw_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
static inline int fw_BIO_set_mem_eof_return(BIO *bio, int value) { return (int)BIO_set_mem_eof_return(bio, value); }
static inline EVP_PKEY *fw_EVP_EC_gen(const char *curve) { return EVP_EC_gen(curve); }
// SSL_OP_* are built by a macro (SSL_OP_BIT) Swift cannot import: the option sets we use, by name.
static inline void fw_SSL_CTX_set_hardening_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}
static inline void fw_SSL_CTX_clear_middlebox_compat(SSL_CTX *ctx) {
    SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
}
static inline void fw_SSL_CTX_set_no_ticket(SSL_CTX *ctx) { SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET); }
static inline int fw_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline int fw_SSL_CTX_set1_sigalgs_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_sigalgs_list(ctx, list);
}
static inline int fw_OPENSSL_init_ssl(void) { return OPENSSL_init_ssl(0, NULL); }
#endif
