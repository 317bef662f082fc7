/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seccomp: docker's profile format turned into OCI linux.seccomp JSON (engine
 * side, seccomp-profile.c), and an OCI seccomp struct turned into a loaded BPF
 * filter (runtime side, seccomp.c, with libseccomp). */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <stdint.h>

#include <jansson.h>

#include <berth/error.h>

struct berth_spec_seccomp;

/* berth's default profile, equivalent to docker's default.json
 * (security.md section 2), as OCI linux.seccomp JSON for a container whose
 * effective capability set is `caps` (bit n = capability n): rules gated on a
 * capability are included only when it is in `caps`. */
json_t *berth_seccomp_default_profile(uint64_t caps, berth_error_t *err);
/* A profile in docker's JSON format (defaultAction, architectures or
 * archMap, syscalls[] with names/action/args/includes/excludes, errnoRet) as
 * given to --security-opt seccomp=FILE, to OCI linux.seccomp JSON for `caps`.
 * Clear errors for bad JSON, unknown actions and operators. */
json_t *berth_seccomp_from_docker_profile(const char *json, size_t len, uint64_t caps, berth_error_t *err);

/* Build the BPF program for `sc` (unknown syscall names skipped).  The
 * result is a sock_fprog-ready byte buffer (struct sock_filter array). */
int berth_seccomp_compile(const struct berth_spec_seccomp *sc, void **ret_bpf, size_t *ret_len, berth_error_t *err);
/* Load a compiled program into the calling thread (needs no_new_privs or
 * CAP_SYS_ADMIN); `flags` are SECCOMP_FILTER_FLAG_* from the spec. */
int berth_seccomp_load(const void *bpf, size_t len, unsigned flags, berth_error_t *err);
/* SECCOMP_FILTER_FLAG_* bits for the spec's flag names. */
int berth_seccomp_flags(const struct berth_spec_seccomp *sc, unsigned *ret, berth_error_t *err);

#endif
