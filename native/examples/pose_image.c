/*
 * pose_image - multi-person pose estimation from C with libtfpose.
 *
 *   pose_image MODEL.pb|model.json IMAGE... [--out DIR] [--size WxH] [--threads N] [--repeat N] [--quiet]
 *
 * For each image: DIR/<name>_keypoints.json (OpenPose JSON from tfpose_people_to_json),
 * DIR/<name>_iterated.json (the same people written here from tfpose_people_get, to show iteration) and
 * DIR/<name>_rendered.png (skeletons drawn into a buffer this program owns). With --repeat N the
 * estimate runs N times per image and the median per-image latency is printed.
 */
#include "tfpose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_IMAGES 64

/* Prints a failed status, frees it and reports failure; returns 1 when status was an error. */
static int failed(tfpose_status* status, const char* what) {
    if (status == NULL) return 0;
    fprintf(stderr, "error: %s: %s (code %d)\n", what, tfpose_status_message(status), (int)tfpose_status_code(status));
    tfpose_status_free(status);
    return 1;
}

static double now_ms(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int compare_doubles(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

/* "dir/p1.jpg" -> "p1" */
static void stem_of(const char* path, char* stem, size_t size) {
    const char* base = path;
    for (const char* p = path; *p; ++p)
        if (*p == '/' || *p == '\\') base = p + 1;
    size_t n = strlen(base);
    const char* dot = strrchr(base, '.');
    if (dot != NULL) n = (size_t)(dot - base);
    if (n >= size) n = size - 1;
    memcpy(stem, base, n);
    stem[n] = '\0';
}

static int write_text(const char* path, const char* text) {
    FILE* f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "error: cannot write %s\n", path);
        return 1;
    }
    fputs(text, f);
    fclose(f);
    return 0;
}

/* OpenPose JSON built from the iteration API (tfpose_people_count/get). */
static int write_iterated(const char* path, const tfpose_people* people) {
    size_t count = 0;
    if (failed(tfpose_people_count(people, &count), "tfpose_people_count")) return 1;
    FILE* f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "error: cannot write %s\n", path);
        return 1;
    }
    fprintf(f, "{\"version\":1.3,\"people\":[");
    for (size_t i = 0; i < count; ++i) {
        tfpose_person person;
        if (failed(tfpose_people_get(people, i, &person), "tfpose_people_get")) {
            fclose(f);
            return 1;
        }
        fprintf(f, "%s{\"person_id\":[-1],\"pose_keypoints_2d\":[", i ? "," : "");
        for (int p = 0; p < TFPOSE_PART_COUNT; ++p) {
            const tfpose_keypoint* k = &person.parts[p];
            fprintf(f, "%s%.3f,%.3f,%.5f", p ? "," : "", k->x, k->y, k->score);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    fclose(f);
    return 0;
}

/* Prints every person's keypoints in the model's own set (COCO-18 for OpenPose, COCO-17 for MoveNet and PoseNet,
 * BlazePose's 33 with depth), by name. */
static void print_people(const char* image, const tfpose_people* people) {
    size_t count = 0, keypoints = 0;
    const char* set = NULL;
    if (failed(tfpose_people_count(people, &count), "tfpose_people_count")) return;
    if (failed(tfpose_people_keypoint_set(people, &set, &keypoints), "tfpose_people_keypoint_set")) return;
    printf("%s: %zu %s (%s keypoints)\n", image, count, count == 1 ? "person" : "people", set);
    for (size_t i = 0; i < count; ++i) {
        tfpose_person person;
        int32_t track = -1;
        if (failed(tfpose_people_get(people, i, &person), "tfpose_people_get")) return;
        if (failed(tfpose_person_track_id(people, i, &track), "tfpose_person_track_id")) return;
        printf("  person %zu: score %.3f, %d COCO-18 parts%s\n", i, person.score, person.part_count, track >= 0 ? ", tracked" : "");
        for (size_t k = 0; k < keypoints; ++k) {
            tfpose_keypoint_ex kp = TFPOSE_KEYPOINT_EX_INIT;
            if (failed(tfpose_person_keypoint(people, i, k, &kp), "tfpose_person_keypoint")) return;
            if (!kp.present) continue;
            if (kp.has_z)
                printf("    %-17s %8.2f %8.2f %8.2f  %.3f\n", kp.name, kp.x, kp.y, kp.z, kp.score);
            else
                printf("    %-17s %8.2f %8.2f  %.3f\n", kp.name, kp.x, kp.y, kp.score);
        }
    }
}

/* Estimates one image `repeat` times, writes the outputs of the last run. Returns 0 on success. */
static int process(tfpose_estimator* estimator, const char* path, const char* out_dir, int repeat, int quiet, double* latencies) {
    tfpose_image* image = NULL;
    tfpose_people* people = NULL;
    uint8_t* canvas = NULL;
    char* json = NULL;
    int rc = 1;
    char stem[256], file[1024];
    tfpose_image_view view;

    if (failed(tfpose_image_read(path, &image), "tfpose_image_read")) goto done;
    if (failed(tfpose_image_get_view(image, &view), "tfpose_image_get_view")) goto done;

    for (int r = 0; r < repeat; ++r) {
        double start = now_ms();
        tfpose_people_free(people); /* the previous run's result (NULL the first time) */
        people = NULL;
        if (failed(tfpose_estimate(estimator, &view, &people), "tfpose_estimate")) goto done;
        latencies[r] = now_ms() - start;
    }
    if (!quiet) print_people(path, people);

    stem_of(path, stem, sizeof stem);
    /* JSON: ask for the length, then fill a buffer of that size + 1. */
    size_t length = 0;
    if (failed(tfpose_people_to_json(people, NULL, 0, &length), "tfpose_people_to_json")) goto done;
    json = (char*)malloc(length + 1);
    if (json == NULL) goto done;
    if (failed(tfpose_people_to_json(people, json, length + 1, &length), "tfpose_people_to_json")) goto done;
    snprintf(file, sizeof file, "%s/%s_keypoints.json", out_dir, stem);
    if (write_text(file, json)) goto done;
    snprintf(file, sizeof file, "%s/%s_iterated.json", out_dir, stem);
    if (write_iterated(file, people)) goto done;

    /* Render into our own BGR buffer (tight rows: stride = width * 3). */
    size_t stride = (size_t)view.width * 3;
    canvas = (uint8_t*)malloc(stride * (size_t)view.height);
    if (canvas == NULL) goto done;
    for (int y = 0; y < view.height; ++y) memcpy(canvas + y * stride, view.data + y * view.stride, stride);
    tfpose_image_view target = {canvas, view.width, view.height, stride, TFPOSE_PIXEL_BGR8};
    if (failed(tfpose_people_render(people, &target, 0), "tfpose_people_render")) goto done;
    snprintf(file, sizeof file, "%s/%s_rendered.png", out_dir, stem);
    if (failed(tfpose_image_write(file, &target), "tfpose_image_write")) goto done;
    rc = 0;

done:
    free(json);
    free(canvas);
    tfpose_status_free(tfpose_people_free(people));
    tfpose_status_free(tfpose_image_free(image));
    return rc;
}

int main(int argc, char** argv) {
    const char* model = NULL;
    const char* images[MAX_IMAGES];
    int image_count = 0, repeat = 1, quiet = 0;
    const char* out_dir = ".";
    tfpose_estimator_options options = TFPOSE_ESTIMATOR_OPTIONS_INIT;

    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_dir = argv[++i];
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d", &options.width, &options.height) != 2) {
                fprintf(stderr, "error: --size takes WxH\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) options.intra_op_threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quiet") == 0) quiet = 1;
        else if (model == NULL) model = argv[i];
        else if (image_count < MAX_IMAGES) images[image_count++] = argv[i];
    }
    if (model == NULL || image_count == 0 || repeat < 1) {
        fprintf(stderr, "usage: pose_image MODEL.pb IMAGE... [--out DIR] [--size WxH] [--threads N] [--repeat N] [--quiet]\n");
        return 2;
    }

    int32_t major = 0, minor = 0, patch = 0, abi = 0;
    if (failed(tfpose_version(&major, &minor, &patch, &abi), "tfpose_version")) return 1;
    if (abi != TFPOSE_ABI_VERSION) {
        fprintf(stderr, "error: libtfpose has ABI %d, this program was built for %d\n", abi, TFPOSE_ABI_VERSION);
        return 1;
    }
    if (!quiet) printf("libtfpose %d.%d.%d\n", major, minor, patch);

    tfpose_estimator* estimator = NULL;
    if (failed(tfpose_estimator_create(model, &options, &estimator), "tfpose_estimator_create")) return 1;

    double* latencies = (double*)calloc((size_t)repeat, sizeof(double));
    int rc = latencies == NULL;
    for (int i = 0; i < image_count && rc == 0; ++i) {
        rc = process(estimator, images[i], out_dir, repeat, quiet, latencies);
        if (rc == 0 && repeat > 1) {
            /* The first run includes one-time work; report the median of the rest. */
            qsort(latencies + 1, (size_t)repeat - 1, sizeof(double), compare_doubles);
            printf("%s: latency median %.2f ms, min %.2f ms over %d runs (first run %.2f ms)\n", images[i], latencies[1 + (repeat - 2) / 2],
                   latencies[1], repeat - 1, latencies[0]);
        }
    }
    free(latencies);
    if (failed(tfpose_estimator_free(estimator), "tfpose_estimator_free")) rc = 1;
    return rc;
}
