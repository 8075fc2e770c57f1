/* People of any keypoint set through the C API: MoveNet (COCO-17), MoveNet MultiPose in video (track ids) and
 * BlazePose (33 keypoints with z, visibility, world keypoints and the mask), checked against the images' content. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfpose.h"

static int checks = 0, failures = 0;

static void expect_ok(tfpose_status* status, const char* what) {
    ++checks;
    if (tfpose_status_code(status) != TFPOSE_OK) {
        printf("FAIL %s: %s\n", what, tfpose_status_message(status));
        ++failures;
    }
    tfpose_status_free(status);
}

static void expect_code(tfpose_status* status, tfpose_code code, const char* what) {
    ++checks;
    if (tfpose_status_code(status) != code) {
        printf("FAIL %s: expected code %d, got %d \"%s\"\n", what, (int)code, (int)tfpose_status_code(status), tfpose_status_message(status));
        ++failures;
    }
    tfpose_status_free(status);
}

static void expect_true(int condition, const char* what) {
    ++checks;
    if (!condition) {
        printf("FAIL %s\n", what);
        ++failures;
    }
}

#define OK(call) expect_ok((call), #call)

/* Keypoint `name` of person `person`, or a keypoint with present = 0. */
static tfpose_keypoint_ex find(const tfpose_people* people, size_t person, const char* name) {
    const char* set = NULL;
    size_t count = 0;
    OK(tfpose_people_keypoint_set(people, &set, &count));
    for (size_t k = 0; k < count; ++k) {
        tfpose_keypoint_ex kp = TFPOSE_KEYPOINT_EX_INIT;
        OK(tfpose_person_keypoint(people, person, k, &kp));
        if (kp.name != NULL && strcmp(kp.name, name) == 0) return kp;
    }
    tfpose_keypoint_ex none = TFPOSE_KEYPOINT_EX_INIT;
    return none;
}

int main(int argc, char** argv) {
    if (argc < 6) {
        printf("usage: keypoints_test MOVENET_DIR MULTIPOSE_DIR BLAZEPOSE_DIR ONE_PERSON.jpg THREE_PEOPLE.jpg\n");
        return 2;
    }
    tfpose_image *one = NULL, *three = NULL;
    tfpose_image_view one_view, three_view;
    OK(tfpose_image_read(argv[4], &one));
    OK(tfpose_image_read(argv[5], &three));
    OK(tfpose_image_get_view(one, &one_view));
    OK(tfpose_image_get_view(three, &three_view));

    /* MoveNet SinglePose: COCO-17 by name, the nose above the hips. */
    tfpose_estimator* movenet = NULL;
    tfpose_people* people = NULL;
    size_t count = 0, keypoints = 0;
    const char* set = NULL;
    OK(tfpose_estimator_create(argv[1], NULL, &movenet));
    OK(tfpose_estimate(movenet, &one_view, &people));
    OK(tfpose_people_count(people, &count));
    OK(tfpose_people_keypoint_set(people, &set, &keypoints));
    expect_true(count == 1 && set != NULL && strcmp(set, "coco17") == 0 && keypoints == 17, "MoveNet: one person with the 17 COCO keypoints");
    tfpose_keypoint_ex nose = find(people, 0, "nose"), hip = find(people, 0, "left_hip");
    expect_true(nose.present && hip.present && nose.y < hip.y && !nose.has_z && nose.visibility == -1.0f, "MoveNet: the nose is above the hip; no z or visibility");
    int32_t id = 0;
    OK(tfpose_person_track_id(people, 0, &id));
    expect_true(id == -1, "a still image's person is untracked");
    size_t world = 99;
    OK(tfpose_person_world_keypoints(people, 0, NULL, 0, &world));
    expect_true(world == 0, "MoveNet gives no world keypoints");
    int32_t mw = -1, mh = -1;
    OK(tfpose_people_mask(people, NULL, 0, &mw, &mh));
    expect_true(mw == 0 && mh == 0, "MoveNet gives no mask");
    tfpose_keypoint_ex bad = TFPOSE_KEYPOINT_EX_INIT;
    expect_code(tfpose_person_keypoint(people, 0, 17, &bad), TFPOSE_INVALID_ARGUMENT, "keypoint index out of range");
    expect_code(tfpose_person_keypoint(people, 1, 0, &bad), TFPOSE_INVALID_ARGUMENT, "person index out of range");
    bad.struct_size = 0;
    expect_code(tfpose_person_keypoint(people, 0, 0, &bad), TFPOSE_INVALID_ARGUMENT, "struct_size 0");
    OK(tfpose_people_free(people));
    OK(tfpose_estimator_free(movenet));

    /* MoveNet MultiPose over frames: three people, each keeping its id. */
    tfpose_estimator* multi = NULL;
    OK(tfpose_estimator_create(argv[2], NULL, &multi));
    int32_t first_ids[6] = {0};
    float first_x[6] = {0};
    size_t first_count = 0;
    int stable = 1;
    for (int frame = 0; frame < 4; ++frame) {
        OK(tfpose_estimate_frame(multi, &three_view, (int64_t)frame * 33333, &people));
        OK(tfpose_people_count(people, &count));
        expect_true(count == 3, "MultiPose: three people in every frame");
        for (size_t p = 0; p < count && p < 6; ++p) {
            OK(tfpose_person_track_id(people, p, &id));
            tfpose_keypoint_ex n = find(people, p, "nose");
            if (frame == 0) {
                first_ids[p] = id;
                first_x[p] = n.x;
                first_count = count;
            } else {
                /* The same person (nearest nose) has the same id. */
                size_t best = 0;
                for (size_t q = 1; q < first_count; ++q)
                    if (fabsf(first_x[q] - n.x) < fabsf(first_x[best] - n.x)) best = q;
                stable &= first_ids[best] == id && id > 0;
            }
        }
        OK(tfpose_people_free(people));
    }
    expect_true(stable, "MultiPose: track ids stay with their people");
    OK(tfpose_estimator_free(multi));

    /* BlazePose: 33 keypoints with z and visibility, world keypoints in metres, a mask of the image's size. */
    tfpose_estimator* blaze = NULL;
    tfpose_estimator_options blaze_options = TFPOSE_ESTIMATOR_OPTIONS_INIT;
    blaze_options.segmentation = 1;
    OK(tfpose_estimator_create(argv[3], &blaze_options, &blaze));
    OK(tfpose_estimate(blaze, &one_view, &people));
    OK(tfpose_people_count(people, &count));
    OK(tfpose_people_keypoint_set(people, &set, &keypoints));
    expect_true(count == 1 && strcmp(set, "blazepose33") == 0 && keypoints == 33, "BlazePose: one person with 33 keypoints");
    tfpose_keypoint_ex heel = find(people, 0, "left_heel");
    expect_true(heel.present && heel.has_z && heel.visibility >= 0.0f && heel.visibility <= 1.0f && heel.presence >= 0.0f, "BlazePose: z, visibility and presence");
    OK(tfpose_person_world_keypoints(people, 0, NULL, 0, &world));
    expect_true(world == 33, "BlazePose: 33 world keypoints");
    float* xyzs = malloc(sizeof(float) * 4 * world);
    expect_code(tfpose_person_world_keypoints(people, 0, xyzs, 4, &world), TFPOSE_BUFFER_TOO_SMALL, "a short world buffer");
    OK(tfpose_person_world_keypoints(people, 0, xyzs, 4 * world, &world));
    /* Metres, origin between the hips, y down: the nose (0) is above the left heel (29), by about a body's height. */
    expect_true(xyzs[4 * 0 + 1] < xyzs[4 * 29 + 1] && xyzs[4 * 29 + 1] - xyzs[4 * 0 + 1] > 0.8f && xyzs[4 * 29 + 1] - xyzs[4 * 0 + 1] < 2.5f,
                "BlazePose: world keypoints span a person's height in metres");
    free(xyzs);
    OK(tfpose_people_mask(people, NULL, 0, &mw, &mh));
    expect_true(mw == one_view.width && mh == one_view.height, "BlazePose: the mask has the image's size");
    float* mask = malloc(sizeof(float) * (size_t)mw * (size_t)mh);
    expect_code(tfpose_people_mask(people, mask, 10, &mw, &mh), TFPOSE_BUFFER_TOO_SMALL, "a short mask buffer");
    OK(tfpose_people_mask(people, mask, (size_t)mw * (size_t)mh, &mw, &mh));
    tfpose_keypoint_ex shoulder = find(people, 0, "left_shoulder"), other = find(people, 0, "right_hip");
    int cx = (int)((shoulder.x + other.x) / 2), cy = (int)((shoulder.y + other.y) / 2);
    expect_true(mask[cy * mw + cx] > 0.5f && mask[0] < 0.5f, "BlazePose: the torso is inside the mask, the corner outside");
    free(mask);
    OK(tfpose_people_free(people));
    OK(tfpose_estimator_free(blaze));

    OK(tfpose_image_free(one));
    OK(tfpose_image_free(three));
    size_t live = 99;
    OK(tfpose_live_handles(&live));
    expect_true(live == 0, "no handle is left alive");
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
