/*
 * checks.h - the pass/fail bookkeeping the C tests share: each check prints "ok" or "FAIL" with what it checked,
 * and main returns failures == 0 ? 0 : 1. Header-only: every test is its own program.
 */
#ifndef TFPOSE_TEST_CHECKS_H
#define TFPOSE_TEST_CHECKS_H

#include "tfpose.h"

#include <stdio.h>
#include <string.h>

static int failures = 0, checks = 0;

/* Expects `status` to carry `code` and a message containing `fragment` (NULL: any non-empty message). */
static void expect(tfpose_status* status, tfpose_code code, const char* fragment, const char* what) {
    ++checks;
    const tfpose_code got = tfpose_status_code(status);
    const char* message = tfpose_status_message(status);
    int ok = got == code;
    if (code != TFPOSE_OK) ok = ok && message != NULL && message[0] != '\0' && (fragment == NULL || strstr(message, fragment) != NULL);
    if (!ok) {
        ++failures;
        printf("FAIL %s: expected code %d%s%s, got %d \"%s\"\n", what, (int)code, fragment ? " with " : "", fragment ? fragment : "", (int)got,
               message);
    } else {
        printf("ok   %s%s%s\n", what, code != TFPOSE_OK ? ": " : "", code != TFPOSE_OK ? message : "");
    }
    tfpose_status_free(status);
}

#define OK(call) expect((call), TFPOSE_OK, NULL, #call)
#define ERR(call, code, fragment) expect((call), (code), (fragment), #call)

static void expect_true(int condition, const char* what) {
    ++checks;
    if (!condition) {
        ++failures;
        printf("FAIL %s\n", what);
    } else {
        printf("ok   %s\n", what);
    }
}

#endif
