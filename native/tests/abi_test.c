/*
 * abi_test - the C API's contract on bad input, from C: every misuse returns an error status with a
 * message (and the right code) instead of crashing; handles are released exactly once.
 *
 *   abi_test POSE_MODEL.pb GRAPH.pb UNFROZEN_GRAPH.pb IMAGE [POSENET_MODEL.pb [HEATMAP_MODEL.pb]]
 */
#include "tfpose.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: abi_test POSE_MODEL.pb GRAPH.pb UNFROZEN_GRAPH.pb IMAGE\n");
        return 2;
    }
    const char *pose_model = argv[1], *graph = argv[2], *unfrozen = argv[3], *image_path = argv[4];

    /* Status accessors accept NULL (= success). */
    expect_true(tfpose_status_code(NULL) == TFPOSE_OK && strcmp(tfpose_status_message(NULL), "") == 0, "NULL status reads as OK");
    tfpose_status_free(NULL);

    int32_t major = -1, minor = -1, patch = -1, abi = -1;
    OK(tfpose_version(&major, &minor, &patch, &abi));
    expect_true(major == TFPOSE_VERSION_MAJOR && minor == TFPOSE_VERSION_MINOR && patch == TFPOSE_VERSION_PATCH && abi == TFPOSE_ABI_VERSION,
                "library version equals the header's");
    OK(tfpose_version(NULL, NULL, NULL, NULL));

    size_t size = 0;
    OK(tfpose_dtype_size(TFPOSE_DTYPE_FLOAT64, &size));
    expect_true(size == 8, "float64 is 8 bytes");
    ERR(tfpose_dtype_size(TFPOSE_DTYPE_FLOAT32, NULL), TFPOSE_INVALID_ARGUMENT, "NULL");

    /* ---- sessions ---- */
    tfpose_session* session = (tfpose_session*)(intptr_t)1; /* must be reset to NULL on failure */
    ERR(tfpose_session_create(NULL, NULL, &session), TFPOSE_INVALID_ARGUMENT, "graph_path is NULL");
    expect_true(session == NULL, "failed create leaves NULL");
    ERR(tfpose_session_create(graph, NULL, NULL), TFPOSE_INVALID_ARGUMENT, "NULL");
    ERR(tfpose_session_create("/no/such/graph.pb", NULL, &session), TFPOSE_NOT_FOUND, "graph.pb");
    ERR(tfpose_session_create(unfrozen, NULL, &session), TFPOSE_INVALID_MODEL, "not frozen");
    tfpose_session_options bad_options = TFPOSE_SESSION_OPTIONS_INIT;
    bad_options.struct_size = 0;
    ERR(tfpose_session_create(graph, &bad_options, &session), TFPOSE_INVALID_ARGUMENT, "struct_size");
    bad_options.struct_size = sizeof bad_options;
    bad_options.device = 7;
    ERR(tfpose_session_create(graph, &bad_options, &session), TFPOSE_INVALID_ARGUMENT, "device");

    tfpose_session_options options = TFPOSE_SESSION_OPTIONS_INIT;
    options.intra_op_threads = 1;
    OK(tfpose_session_create(graph, &options, &session));
    size_t inputs = 0, outputs = 0;
    OK(tfpose_session_input_count(session, &inputs));
    OK(tfpose_session_output_count(session, &outputs));
    expect_true(inputs >= 1 && outputs >= 1, "the graph has inputs and outputs");
    tfpose_tensor_info info;
    OK(tfpose_session_input(session, 0, &info));
    expect_true(info.name != NULL && info.dtype == TFPOSE_DTYPE_FLOAT32 && info.rank == 2, "input 0 is a rank-2 float32 tensor");
    ERR(tfpose_session_input(session, inputs, &info), TFPOSE_INVALID_ARGUMENT, "out of range");
    ERR(tfpose_session_input(session, 0, NULL), TFPOSE_INVALID_ARGUMENT, "NULL");
    ERR(tfpose_session_input_count(NULL, &inputs), TFPOSE_INVALID_ARGUMENT, "session is NULL");

    /* A [1, N] feed for the first input. */
    const int64_t n = info.shape[1] > 0 ? info.shape[1] : 4;
    float* data = (float*)calloc((size_t)n, sizeof(float));
    int64_t shape[2] = {1, n};
    tfpose_feed feed = {info.name, TFPOSE_DTYPE_FLOAT32, 2, shape, data, (size_t)n * sizeof(float)};
    tfpose_results* results = NULL;
    OK(tfpose_session_run(session, &feed, 1, NULL, 0, &results));
    size_t count = 0;
    OK(tfpose_results_count(results, &count));
    expect_true(count == outputs, "a run without fetches returns every output");
    const void* out_data = NULL;
    size_t out_bytes = 0;
    OK(tfpose_results_get(results, 0, &info, &out_data, &out_bytes));
    expect_true(out_data != NULL && out_bytes > 0, "the result has data");
    size_t index = 99;
    OK(tfpose_results_find(results, info.name, &index));
    expect_true(index == 0, "results_find finds result 0 by name");
    ERR(tfpose_results_find(results, "no_such_tensor", &index), TFPOSE_INVALID_ARGUMENT, "no_such_tensor");
    ERR(tfpose_results_get(results, count, &info, NULL, NULL), TFPOSE_INVALID_ARGUMENT, "out of range");

    /* Bad feeds. A failed call writes NULL to its out parameter, so use a separate one. */
    tfpose_results* no_results = NULL;
    tfpose_feed bad = feed;
    bad.byte_size -= 4;
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "byte_size");
    bad = feed;
    bad.name = "no_such_input";
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "no_such_input");
    bad = feed;
    bad.data = NULL;
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "data is NULL");
    bad = feed;
    bad.name = NULL;
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "name is NULL");
    bad = feed;
    bad.dtype = 42;
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "dtype");
    bad = feed;
    bad.dtype = TFPOSE_DTYPE_INT32; /* right size, wrong type */
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "int32");
    int64_t negative[2] = {1, -1};
    bad = feed;
    bad.shape = negative;
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "dimension");
    bad = feed;
    bad.shape = NULL;
    ERR(tfpose_session_run(session, &bad, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "shape is NULL");
    tfpose_feed twice[2] = {feed, feed};
    ERR(tfpose_session_run(session, twice, 2, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "fed twice");
    ERR(tfpose_session_run(session, NULL, 1, NULL, 0, &no_results), TFPOSE_INVALID_ARGUMENT, "feeds is NULL");
    const char* unknown_fetch[1] = {"no_such_output"};
    ERR(tfpose_session_run(session, &feed, 1, unknown_fetch, 1, &no_results), TFPOSE_INVALID_ARGUMENT, "no_such_output");
    ERR(tfpose_session_run(session, &feed, 1, NULL, 0, NULL), TFPOSE_INVALID_ARGUMENT, "NULL");
    expect_true(no_results == NULL, "failed runs leave NULL results");

    /* Wrong kind, use after free, double free. */
    tfpose_results* live_results = NULL;
    OK(tfpose_session_run(session, &feed, 1, NULL, 0, &live_results));
    ERR(tfpose_session_input_count((const tfpose_session*)live_results, &inputs), TFPOSE_INVALID_HANDLE, "tfpose_results");
    OK(tfpose_results_free(live_results));
    ERR(tfpose_results_count(live_results, &count), TFPOSE_INVALID_HANDLE, "freed");
    ERR(tfpose_results_free(live_results), TFPOSE_INVALID_HANDLE, "freed");
    OK(tfpose_results_free(results));
    OK(tfpose_results_free(NULL));
    ERR(tfpose_session_input_count((const tfpose_session*)(intptr_t)0x12345678, &inputs), TFPOSE_INVALID_HANDLE, "not a live");
    OK(tfpose_session_free(session));
    ERR(tfpose_session_run(session, &feed, 1, NULL, 0, &results), TFPOSE_INVALID_HANDLE, "freed");
    ERR(tfpose_session_free(session), TFPOSE_INVALID_HANDLE, "freed");
    free(data);

    /* ---- images and pose ---- */
    tfpose_image* image = NULL;
    ERR(tfpose_image_read("/no/such/image.jpg", &image), TFPOSE_NOT_FOUND, "image.jpg");
    ERR(tfpose_image_read(graph, &image), TFPOSE_INVALID_ARGUMENT, "cannot read the image");
    OK(tfpose_image_read(image_path, &image));
    tfpose_image_view view;
    OK(tfpose_image_get_view(image, &view));
    expect_true(view.width > 0 && view.height > 0 && view.format == TFPOSE_PIXEL_BGR8 && view.stride >= (size_t)view.width * 3,
                "the image is BGR8");

    tfpose_estimator* estimator = NULL;
    ERR(tfpose_estimator_create("/no/such/model.pb", NULL, &estimator), TFPOSE_NOT_FOUND, "model.pb");
    tfpose_estimator_options eo = TFPOSE_ESTIMATOR_OPTIONS_INIT;
    eo.width = 100; /* not a multiple of 8 */
    ERR(tfpose_estimator_create(pose_model, &eo, &estimator), TFPOSE_INVALID_ARGUMENT, "multiple of 8");
    eo.width = 96;
    eo.height = 96;
    eo.intra_op_threads = 1;
    eo.device = 7;
    ERR(tfpose_estimator_create(pose_model, &eo, &estimator), TFPOSE_INVALID_ARGUMENT, "options->device is 7");
    /* A caller built against the header before device existed: its struct_size ends before the field, so whatever
     * lies beyond (here the invalid 7) is not read and the estimator runs on the CPU. */
    eo.struct_size = (uint32_t)offsetof(tfpose_estimator_options, device);
    OK(tfpose_estimator_create(pose_model, &eo, &estimator));
    OK(tfpose_estimator_free(estimator));
    estimator = NULL;
    eo.struct_size = sizeof eo;
    /* CUDA travels to the sessions: on a machine without a usable GPU the estimator reports the device it could not
     * start instead of quietly running on the CPU (with a GPU it may succeed). */
    eo.device = TFPOSE_DEVICE_CUDA;
    {
        tfpose_status* status = tfpose_estimator_create(pose_model, &eo, &estimator);
        const char* message = tfpose_status_message(status);
        expect_true(tfpose_status_code(status) == TFPOSE_OK || (message != NULL && strstr(message, "Cuda") != NULL),
                    "device CUDA reaches the sessions (succeeds or names Cuda)");
        tfpose_status_free(status);
        if (estimator != NULL) OK(tfpose_estimator_free(estimator));
        estimator = NULL;
    }
    eo.device = TFPOSE_DEVICE_CPU;
    OK(tfpose_estimator_create(pose_model, &eo, &estimator));

    tfpose_people* people = NULL;
    tfpose_image_view v = view;
    ERR(tfpose_estimate(estimator, NULL, &people), TFPOSE_INVALID_ARGUMENT, "image is NULL");
    v.data = NULL;
    ERR(tfpose_estimate(estimator, &v, &people), TFPOSE_INVALID_ARGUMENT, "data is NULL");
    v = view;
    v.stride = (size_t)view.width * 3 - 1;
    ERR(tfpose_estimate(estimator, &v, &people), TFPOSE_INVALID_ARGUMENT, "stride");
    v = view;
    v.width = 0;
    ERR(tfpose_estimate(estimator, &v, &people), TFPOSE_INVALID_ARGUMENT, "positive");
    v = view;
    v.format = 2;
    ERR(tfpose_estimate(estimator, &v, &people), TFPOSE_INVALID_ARGUMENT, "format");
    ERR(tfpose_estimate((tfpose_estimator*)image, &view, &people), TFPOSE_INVALID_HANDLE, "tfpose_image");
    ERR(tfpose_estimate(estimator, &view, NULL), TFPOSE_INVALID_ARGUMENT, "NULL");

    /* A padded stride (rows of the image inside a wider buffer) gives the same result as the tight one. */
    OK(tfpose_estimate(estimator, &view, &people));
    size_t tight_length = 0, padded_length = 0;
    OK(tfpose_people_to_json(people, NULL, 0, &tight_length));
    const size_t padded_stride = view.stride + 64;
    uint8_t* padded = (uint8_t*)malloc(padded_stride * (size_t)view.height);
    for (int y = 0; y < view.height; ++y) memcpy(padded + y * padded_stride, view.data + y * view.stride, (size_t)view.width * 3);
    tfpose_image_view pv = {padded, view.width, view.height, padded_stride, TFPOSE_PIXEL_BGR8};
    tfpose_people* padded_people = NULL;
    OK(tfpose_estimate(estimator, &pv, &padded_people));
    OK(tfpose_people_to_json(padded_people, NULL, 0, &padded_length));
    char* a = (char*)malloc(tight_length + 1);
    char* b = (char*)malloc(padded_length + 1);
    OK(tfpose_people_to_json(people, a, tight_length + 1, &tight_length));
    OK(tfpose_people_to_json(padded_people, b, padded_length + 1, &padded_length));
    expect_true(tight_length == padded_length && strcmp(a, b) == 0, "a padded stride gives the same people");
    size_t length = 0;
    ERR(tfpose_people_to_json(people, a, tight_length, &length), TFPOSE_BUFFER_TOO_SMALL, "needs");
    expect_true(length == tight_length, "BUFFER_TOO_SMALL reports the length");
    ERR(tfpose_people_to_json(people, NULL, 10, &length), TFPOSE_INVALID_ARGUMENT, "buffer is NULL");
    free(a);
    free(b);
    OK(tfpose_people_free(padded_people));

    tfpose_person person;
    OK(tfpose_people_count(people, &count));
    ERR(tfpose_people_get(people, count, &person), TFPOSE_INVALID_ARGUMENT, "out of range");
    tfpose_image_view small = {padded, view.width / 2, view.height, padded_stride, TFPOSE_PIXEL_BGR8};
    ERR(tfpose_people_render(people, &small, 0), TFPOSE_INVALID_ARGUMENT, "render into a buffer of that size");
    ERR(tfpose_people_render(people, &pv, -1), TFPOSE_INVALID_ARGUMENT, "thickness");
    OK(tfpose_people_render(people, &pv, 2));
    ERR(tfpose_image_write("/no/such/dir/out.png", &pv), TFPOSE_NOT_FOUND, "/no/such/dir");
    ERR(tfpose_image_write("out.unknown-extension", &pv), TFPOSE_RUNTIME_ERROR, NULL);
    free(padded);

    /* Other model kinds (optional 5th/6th arguments): their keypoints land in the COCO-18 slots of the same name. */
    for (int m = 5; m < argc && m < 7; ++m) {
        tfpose_estimator* other = NULL;
        tfpose_people* found = NULL;
        tfpose_person first;
        size_t n = 0;
        OK(tfpose_estimator_create(argv[m], NULL, &other));
        OK(tfpose_estimate(other, &view, &found));
        OK(tfpose_people_count(found, &n));
        expect_true(n >= 1, "the other model finds the person in the image");
        if (n >= 1) {
            OK(tfpose_people_get(found, 0, &first));
            int present = 0;
            for (int i = 0; i < TFPOSE_PART_COUNT; ++i) present += first.parts[i].present;
            expect_true(present == first.part_count && first.part_count > 0, "part_count counts the filled slots");
            /* PoseNet (COCO-17) has no neck; CPM/hourglass (AI Challenger) have a neck but no nose or eyes. */
            expect_true(first.parts[1].present != first.parts[0].present, "keypoints are in their named slots (nose xor neck)");
            expect_true(first.parts[2].present && first.parts[5].present && first.parts[2].x < first.parts[5].x,
                        "the right shoulder is in its slot, left of the left one in the image");
        }
        OK(tfpose_people_free(found));
        OK(tfpose_estimator_free(other));
    }

    const char* name = NULL;
    OK(tfpose_part_name(0, &name));
    expect_true(name != NULL && strcmp(name, "nose") == 0, "part 0 is the nose");
    ERR(tfpose_part_name(TFPOSE_PART_COUNT, &name), TFPOSE_INVALID_ARGUMENT, "out of range");

    OK(tfpose_people_free(people));
    ERR(tfpose_people_count(people, &count), TFPOSE_INVALID_HANDLE, "freed");
    OK(tfpose_estimator_free(estimator));
    ERR(tfpose_estimate(estimator, &view, &people), TFPOSE_INVALID_HANDLE, "freed");
    ERR(tfpose_estimator_free(estimator), TFPOSE_INVALID_HANDLE, "freed");
    OK(tfpose_image_free(image));
    ERR(tfpose_image_get_view(image, &view), TFPOSE_INVALID_HANDLE, "freed");

    size_t live = 99;
    OK(tfpose_live_handles(&live));
    expect_true(live == 0, "no handle is left alive");

    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
