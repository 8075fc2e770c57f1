/*
 * eval_test - tfpose_evaluate_coco from C against `tfpose pose eval` (C#): the same AP/AR and image counts for a
 * multi-person model on whole images and for a single-person model on ground-truth boxes; bad input names its file.
 *
 *   eval_test ANNOTATIONS.json SCRATCH_DIR
 *             WHOLE_MODEL WHOLE_IMAGES WHOLE_EXPECTED
 *             BOXES_MODEL BOXES_IMAGES BOXES_EXPECTED
 *
 * *_EXPECTED: "ap,ap50,ap75,apm,apl,ar,ar50,ar75,arm,arl,scored,skipped" as the CLI printed them (3 decimals).
 * SCRATCH_DIR: a writable folder for the small annotation files this test writes itself.
 */
#include "tfpose.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

static const char* metric_names[10] = {"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"};

static void metrics_of(const tfpose_coco_stats* s, double out[10]) {
    const double v[10] = {s->ap, s->ap50, s->ap75, s->ap_medium, s->ap_large, s->ar, s->ar50, s->ar75, s->ar_medium, s->ar_large};
    memcpy(out, v, sizeof v);
}

/* Parses "v0,...,v9,scored,skipped"; 0 on a malformed list. */
static int parse_expected(const char* text, double metrics[10], int* scored, int* skipped) {
    char* end = NULL;
    const char* p = text;
    for (int i = 0; i < 12; ++i) {
        const double v = strtod(p, &end);
        if (end == p || (i < 11 && *end != ',') || (i == 11 && *end != '\0')) return 0;
        if (i < 10) metrics[i] = v;
        else if (i == 10) *scored = (int)v;
        else *skipped = (int)v;
        p = end + 1;
    }
    return 1;
}

/* The C# side printed 3 decimals: equal means within half a unit of the last one. */
static void compare(const char* run, const tfpose_coco_stats* got, const char* expected_text) {
    double expected[10], actual[10];
    int scored = -1, skipped = -1;
    char what[256];
    snprintf(what, sizeof what, "%s: expected values parse (%s)", run, expected_text);
    expect_true(parse_expected(expected_text, expected, &scored, &skipped), what);
    metrics_of(got, actual);
    for (int i = 0; i < 10; ++i) {
        snprintf(what, sizeof what, "%s: %s %.4f (C) vs %.3f (tfpose pose eval)", run, metric_names[i], actual[i], expected[i]);
        expect_true(fabs(actual[i] - expected[i]) <= 0.0005 + 1e-9, what);
    }
    snprintf(what, sizeof what, "%s: %d images scored, %d skipped (C) vs %d, %d (tfpose pose eval)", run, got->images_scored, got->images_skipped,
             scored, skipped);
    expect_true(got->images_scored == scored && got->images_skipped == skipped, what);
    /* A score that is all -1 or all 0 would match a CLI that found nothing: the test set must give the model something to score. */
    snprintf(what, sizeof what, "%s: AP %.3f is a real score (0 < AP < 1)", run, got->ap);
    expect_true(got->ap > 0 && got->ap < 1, what);
}

static int write_text(const char* path, const char* text) {
    FILE* f = fopen(path, "wb");
    if (!f) return 0;
    const int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

int main(int argc, char** argv) {
    if (argc < 9) {
        fprintf(stderr, "usage: eval_test ANNOTATIONS.json SCRATCH_DIR WHOLE_MODEL WHOLE_IMAGES WHOLE_EXPECTED BOXES_MODEL BOXES_IMAGES BOXES_EXPECTED\n");
        return 2;
    }
    const char *annotations = argv[1], *scratch = argv[2];
    const char *whole_model = argv[3], *whole_images = argv[4], *whole_expected = argv[5];
    const char *boxes_model = argv[6], *boxes_images = argv[7], *boxes_expected = argv[8];

    size_t live_before = 0;
    OK(tfpose_live_handles(&live_before));

    /* A multi-person model on whole images, default options (as `tfpose pose eval` without --keep-aspect). */
    tfpose_estimator* whole = NULL;
    OK(tfpose_estimator_create(whole_model, NULL, &whole));
    if (whole) {
        tfpose_coco_stats stats = TFPOSE_COCO_STATS_INIT;
        OK(tfpose_evaluate_coco(whole, annotations, whole_images, NULL, &stats));
        expect_true(stats.struct_size == sizeof(tfpose_coco_stats), "stats->struct_size is written back");
        compare("whole images", &stats, whole_expected);
    }

    /* A single-person model once per ground-truth box; `--gt-boxes` keeps the aspect ratio, so this estimator does too. */
    tfpose_estimator* boxes = NULL;
    tfpose_estimator_options options = TFPOSE_ESTIMATOR_OPTIONS_INIT;
    options.keep_aspect_ratio = 1;
    OK(tfpose_estimator_create(boxes_model, &options, &boxes));
    if (boxes) {
        tfpose_coco_stats stats = TFPOSE_COCO_STATS_INIT;
        tfpose_eval_options eval = TFPOSE_EVAL_OPTIONS_INIT;
        eval.ground_truth_boxes = 1;
        OK(tfpose_evaluate_coco(boxes, annotations, boxes_images, &eval, &stats));
        compare("ground-truth boxes", &stats, boxes_expected);
    }

    /* Bad input: one status, the right code, a message naming the file or the field. */
    char missing[1024], malformed[1024], empty[1024], missing_dir[1024];
    snprintf(missing, sizeof missing, "%s/no_such_annotations.json", scratch);
    snprintf(malformed, sizeof malformed, "%s/not_coco.json", scratch);
    snprintf(empty, sizeof empty, "%s/no_images.json", scratch);
    snprintf(missing_dir, sizeof missing_dir, "%s/no_such_images", scratch);
    expect_true(write_text(malformed, "{\"images\": [{\"id\": 1}]}") && write_text(empty, "{\"images\": [], \"annotations\": []}"),
                "scratch annotation files written");
    tfpose_coco_stats stats = TFPOSE_COCO_STATS_INIT;
    ERR(tfpose_evaluate_coco(whole, missing, whole_images, NULL, &stats), TFPOSE_NOT_FOUND, missing);
    ERR(tfpose_evaluate_coco(whole, malformed, whole_images, NULL, &stats), TFPOSE_INVALID_ARGUMENT, malformed);
    ERR(tfpose_evaluate_coco(whole, annotations, missing_dir, NULL, &stats), TFPOSE_NOT_FOUND, missing_dir);
    ERR(tfpose_evaluate_coco(whole, NULL, whole_images, NULL, &stats), TFPOSE_INVALID_ARGUMENT, "annotations_json");
    ERR(tfpose_evaluate_coco(whole, annotations, NULL, NULL, &stats), TFPOSE_INVALID_ARGUMENT, "images_dir");
    ERR(tfpose_evaluate_coco(whole, annotations, whole_images, NULL, NULL), TFPOSE_INVALID_ARGUMENT, "stats");
    ERR(tfpose_evaluate_coco(NULL, annotations, whole_images, NULL, &stats), TFPOSE_INVALID_ARGUMENT, "estimator");
    tfpose_coco_stats unsized = TFPOSE_COCO_STATS_INIT;
    unsized.struct_size = 0;
    ERR(tfpose_evaluate_coco(whole, empty, whole_images, NULL, &unsized), TFPOSE_INVALID_ARGUMENT, "struct_size");
    tfpose_eval_options negative = TFPOSE_EVAL_OPTIONS_INIT;
    negative.box_growth = -1.0f;
    ERR(tfpose_evaluate_coco(whole, empty, whole_images, &negative, &stats), TFPOSE_INVALID_ARGUMENT, "box_growth");

    /* struct_size growth: a caller built when the stats ended after the AP numbers (and the options after their flag)
     * gets those and nothing written beyond. No images: pycocotools' -1 for "nothing to score". */
    tfpose_coco_stats older;
    memset(&older, 0x7f, sizeof older);
    older.struct_size = (uint32_t)offsetof(tfpose_coco_stats, ar);
    tfpose_eval_options older_options = {(uint32_t)offsetof(tfpose_eval_options, box_growth), 0, 0.0f};
    OK(tfpose_evaluate_coco(whole, empty, whole_images, &older_options, &older));
    expect_true(older.ap == -1 && older.ap_large == -1, "an empty set scores -1 (pycocotools' 'nothing to score')");
    tfpose_coco_stats untouched;
    memset(&untouched, 0x7f, sizeof untouched);
    expect_true(older.struct_size == offsetof(tfpose_coco_stats, ar) &&
                    memcmp((const char*)&older + offsetof(tfpose_coco_stats, ar), (const char*)&untouched + offsetof(tfpose_coco_stats, ar),
                           sizeof older - offsetof(tfpose_coco_stats, ar)) == 0,
                "an older, shorter stats struct: nothing written past its struct_size");

    OK(tfpose_estimator_free(whole));
    OK(tfpose_estimator_free(boxes));
    ERR(tfpose_evaluate_coco(whole, annotations, whole_images, NULL, &stats), TFPOSE_INVALID_HANDLE, NULL);
    size_t live_after = 0;
    OK(tfpose_live_handles(&live_after));
    expect_true(live_after == live_before, "no handle left alive");

    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
