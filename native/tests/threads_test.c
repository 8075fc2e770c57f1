/*
 * threads_test - one estimator shared by C threads: tfpose_estimate from 4 threads at once gives every call exactly
 * the JSON it gives on one thread (the C API no longer serialises it), and tfpose_estimate_frame from two threads at
 * once is serialised (both succeed) rather than refused.
 *
 *   threads_test IMAGE1 IMAGE2 IMAGE3 MODEL...
 */
#include "tfpose.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define CALLS 6
#define IMAGES 3
#define FRAMES 3

static tfpose_estimator* estimator;
static tfpose_image_view views[IMAGES];
static char* expected[IMAGES];
static int failures = 0;
static pthread_mutex_t report = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char* what, tfpose_status* status) {
    pthread_mutex_lock(&report);
    ++failures;
    printf("FAIL %s: %s\n", what, tfpose_status_message(status));
    pthread_mutex_unlock(&report);
    tfpose_status_free(status);
}

/* The people's JSON (malloc'ed), or NULL after reporting the failure. */
static char* to_json(tfpose_people* people) {
    size_t length = 0;
    tfpose_status* status = tfpose_people_to_json(people, NULL, 0, &length);
    if (status) {
        fail("tfpose_people_to_json (length)", status);
        return NULL;
    }
    char* json = malloc(length + 1);
    if ((status = tfpose_people_to_json(people, json, length + 1, &length)) != NULL) {
        fail("tfpose_people_to_json", status);
        free(json);
        return NULL;
    }
    return json;
}

static char* estimate_json(int image) {
    tfpose_people* people = NULL;
    tfpose_status* status = tfpose_estimate(estimator, &views[image], &people);
    if (status) {
        fail("tfpose_estimate", status);
        return NULL;
    }
    char* json = to_json(people);
    tfpose_people_free(people);
    return json;
}

static void* hammer(void* arg) {
    const int thread = (int)(intptr_t)arg;
    for (int call = 0; call < CALLS; ++call) {
        const int image = (thread + call) % IMAGES;
        char* json = estimate_json(image);
        if (json && strcmp(json, expected[image]) != 0) {
            pthread_mutex_lock(&report);
            ++failures;
            printf("FAIL thread %d call %d, image %d:\n  got      %s\n  expected %s\n", thread, call, image + 1, json, expected[image]);
            pthread_mutex_unlock(&report);
        }
        free(json);
    }
    return NULL;
}

static void* frames(void* arg) {
    const int thread = (int)(intptr_t)arg;
    for (int f = 0; f < FRAMES; ++f) {
        tfpose_people* people = NULL;
        tfpose_status* status = tfpose_estimate_frame(estimator, &views[0], (int64_t)(thread * FRAMES + f) * 33333, &people);
        if (status)
            fail("tfpose_estimate_frame from two threads", status);
        tfpose_people_free(people);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: threads_test IMAGE1 IMAGE2 IMAGE3 MODEL...\n");
        return 2;
    }
    tfpose_image* images[IMAGES];
    for (int i = 0; i < IMAGES; ++i) {
        tfpose_status* status = tfpose_image_read(argv[1 + i], &images[i]);
        if (!status) status = tfpose_image_get_view(images[i], &views[i]);
        if (status) {
            fail(argv[1 + i], status);
            return 1;
        }
    }
    for (int m = 1 + IMAGES; m < argc; ++m) {
        tfpose_status* status = tfpose_estimator_create(argv[m], NULL, &estimator);
        if (status) {
            fail(argv[m], status);
            continue;
        }
        const int before = failures;
        for (int i = 0; i < IMAGES; ++i) {
            expected[i] = estimate_json(i);
            if (!expected[i]) return 1;
        }
        pthread_t threads[THREADS];
        for (int t = 0; t < THREADS; ++t) pthread_create(&threads[t], NULL, hammer, (void*)(intptr_t)t);
        for (int t = 0; t < THREADS; ++t) pthread_join(threads[t], NULL);
        printf("%s %s: %d tfpose_estimate calls on %d threads, each equal to the single-threaded JSON\n",
               failures == before ? "ok  " : "FAIL", argv[m], THREADS * CALLS, THREADS);

        const int frames_before = failures;
        for (int t = 0; t < 2; ++t) pthread_create(&threads[t], NULL, frames, (void*)(intptr_t)t);
        for (int t = 0; t < 2; ++t) pthread_join(threads[t], NULL);
        printf("%s %s: tfpose_estimate_frame from two threads at once is serialised\n", failures == frames_before ? "ok  " : "FAIL", argv[m]);

        for (int i = 0; i < IMAGES; ++i) free(expected[i]);
        tfpose_estimator_free(estimator);
    }
    for (int i = 0; i < IMAGES; ++i) tfpose_image_free(images[i]);
    printf("%d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
