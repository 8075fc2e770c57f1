/*
 * tfpose.h - the C API of TfPose: run frozen TensorFlow graphs and multi-person pose estimation
 * without TensorFlow, from C or C++. Link libtfpose.so / tfpose.dll (tfpose.lib) and include this file.
 *
 * Conventions (they hold for every function below):
 *  - Every function returns a tfpose_status*: NULL means success; otherwise an error object that the
 *    caller owns and must release with tfpose_status_free(). Only the tfpose_status_* accessors
 *    themselves and tfpose_status_free() return something else. Nothing throws or aborts across this
 *    boundary: bad pointers, sizes, strides, names and stale handles come back as error statuses.
 *  - Handles (tfpose_session, tfpose_results, tfpose_estimator, tfpose_people, tfpose_image) are
 *    opaque. Each is created by one function and released by the matching *_free function (freeing
 *    NULL is a no-op); using a handle after it was freed (or freeing it twice) returns
 *    TFPOSE_INVALID_HANDLE. On failure a create function leaves NULL in its out parameter.
 *  - Pointers returned inside structs (names, shapes, tensor data, pixels) are borrowed: they stay
 *    valid until the handle they came from is freed, and must not be freed by the caller.
 *  - Strings are UTF-8 and NUL-terminated on every platform (file paths too, also on Windows).
 *  - Options structs start with struct_size (set it to sizeof the struct, or use the *_INIT macro);
 *    a newer library reads only the fields an older caller knew about.
 *  - Handles are safe to use from several threads, but one handle must not be freed while another
 *    thread is still using it. tfpose_session_run may run concurrently on one session, and so may
 *    tfpose_estimate on one estimator (each call has buffers of its own; the networks are shared).
 *    Video calls on one estimator (tfpose_estimate_frame, tfpose_estimator_reset_video) are serialised:
 *    frames carry state from one to the next, so give each video stream its own estimator.
 */
#ifndef TFPOSE_H
#define TFPOSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define TFPOSE_API __declspec(dllimport)
#  define TFPOSE_CALL __cdecl
#else
#  define TFPOSE_API __attribute__((visibility("default")))
#  define TFPOSE_CALL
#endif

/* Version of this header. The library reports its own with tfpose_version(); the ABI version changes
 * only on an incompatible change (a removed function or a changed struct layout). */
#define TFPOSE_VERSION_MAJOR 0
#define TFPOSE_VERSION_MINOR 1
#define TFPOSE_VERSION_PATCH 0
#define TFPOSE_ABI_VERSION 1

/* ---------------------------------------------------------------------------------------------- */
/* Status                                                                                          */

typedef enum tfpose_code {
    TFPOSE_OK = 0,
    TFPOSE_INVALID_ARGUMENT = 1, /* NULL pointer, bad size/stride/shape/type, unknown tensor name */
    TFPOSE_NOT_FOUND = 2,        /* a file that does not exist */
    TFPOSE_INVALID_HANDLE = 3,   /* a freed, foreign or wrong-kind handle */
    TFPOSE_BUFFER_TOO_SMALL = 4, /* the caller's buffer is too small; the needed size was reported */
    TFPOSE_INVALID_MODEL = 5,    /* the graph cannot be read, is not frozen or cannot be translated */
    TFPOSE_RUNTIME_ERROR = 6,    /* execution failed (ONNX Runtime, device, out of memory, ...) */
    TFPOSE_INTERNAL = 7          /* a bug: please report the message */
} tfpose_code;

typedef struct tfpose_status tfpose_status;

/* The code of a status; TFPOSE_OK for NULL. */
TFPOSE_API tfpose_code TFPOSE_CALL tfpose_status_code(const tfpose_status* status);
/* The message of a status ("" for NULL); valid until the status is freed. */
TFPOSE_API const char* TFPOSE_CALL tfpose_status_message(const tfpose_status* status);
/* Releases a status; NULL is allowed. */
TFPOSE_API void TFPOSE_CALL tfpose_status_free(tfpose_status* status);

/* Version of the loaded library (any out pointer may be NULL). */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_version(int32_t* major, int32_t* minor, int32_t* patch, int32_t* abi);

/* Number of handles currently alive in this process (a leak check for tests and long-running hosts). */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_live_handles(size_t* count);

/* ---------------------------------------------------------------------------------------------- */
/* Tensors and graph sessions                                                                      */

/* Element types (the numbering of ONNX's TensorProto.DataType). */
typedef enum tfpose_dtype {
    TFPOSE_DTYPE_UNKNOWN = 0,
    TFPOSE_DTYPE_FLOAT32 = 1,
    TFPOSE_DTYPE_UINT8 = 2,
    TFPOSE_DTYPE_INT8 = 3,
    TFPOSE_DTYPE_INT32 = 6,
    TFPOSE_DTYPE_INT64 = 7,
    TFPOSE_DTYPE_BOOL = 9,
    TFPOSE_DTYPE_FLOAT64 = 11
} tfpose_dtype;

/* Bytes per element of a dtype (0 for an unknown one). */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_dtype_size(int32_t dtype, size_t* size);

typedef enum tfpose_device {
    TFPOSE_DEVICE_CPU = 0,
    TFPOSE_DEVICE_CUDA = 1,    /* needs the GPU build of ONNX Runtime beside the library */
    TFPOSE_DEVICE_TENSORRT = 2
} tfpose_device;

typedef struct tfpose_session_options {
    uint32_t struct_size;     /* sizeof(tfpose_session_options) */
    int32_t intra_op_threads; /* 0 = ONNX Runtime's default (one per physical core) */
    int32_t device;           /* tfpose_device */
    int32_t device_id;
} tfpose_session_options;
#define TFPOSE_SESSION_OPTIONS_INIT { sizeof(tfpose_session_options), 0, TFPOSE_DEVICE_CPU, 0 }

/* Name, type and TensorFlow-layout shape of a graph input/output or of a result tensor.
 * rank is -1 when unknown; a dimension of -1 is "any size". */
typedef struct tfpose_tensor_info {
    const char* name;
    int32_t dtype;
    int32_t rank;
    const int64_t* shape;
} tfpose_tensor_info;

/* A tensor fed to tfpose_session_run: TensorFlow layout (e.g. NHWC), dense, row-major. byte_size must
 * be exactly product(shape) * tfpose_dtype_size(dtype). The data is read during the call only. */
typedef struct tfpose_feed {
    const char* name; /* "node" or "node:0" */
    int32_t dtype;
    int32_t rank;
    const int64_t* shape;
    const void* data;
    size_t byte_size;
} tfpose_feed;

typedef struct tfpose_session tfpose_session;
typedef struct tfpose_results tfpose_results;

/* Loads a frozen GraphDef (.pb, binary or text) or a TensorFlow.js graph model (model.json beside its weight
   shards, or the folder holding it) and translates it for ONNX Runtime. options may be NULL. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_session_create(const char* graph_path, const tfpose_session_options* options,
                                                            tfpose_session** session);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_session_free(tfpose_session* session);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_session_input_count(const tfpose_session* session, size_t* count);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_session_output_count(const tfpose_session* session, size_t* count);
/* Borrowed strings/shapes, valid while the session lives. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_session_input(const tfpose_session* session, size_t index, tfpose_tensor_info* info);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_session_output(const tfpose_session* session, size_t index, tfpose_tensor_info* info);

/* Runs the graph. fetches may be NULL (fetch_count 0) for the graph's outputs. The results are owned by
 * the caller: release them with tfpose_results_free. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_session_run(tfpose_session* session, const tfpose_feed* feeds, size_t feed_count,
                                                         const char* const* fetches, size_t fetch_count, tfpose_results** results);

TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_results_free(tfpose_results* results);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_results_count(const tfpose_results* results, size_t* count);
/* Tensor `index` (fetch order): its info and its data (byte_size bytes), borrowed until the results are freed.
 * data/byte_size may be NULL when only the info is wanted. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_results_get(const tfpose_results* results, size_t index, tfpose_tensor_info* info,
                                                         const void** data, size_t* byte_size);
/* Index of a fetched tensor by TensorFlow name ("node" or "node:0"); TFPOSE_INVALID_ARGUMENT if it was not fetched. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_results_find(const tfpose_results* results, const char* name, size_t* index);

/* ---------------------------------------------------------------------------------------------- */
/* Images (8-bit pixel buffers; no image library types cross this API)                            */

typedef enum tfpose_pixel_format {
    TFPOSE_PIXEL_GRAY8 = 1,
    TFPOSE_PIXEL_BGR8 = 3,
    TFPOSE_PIXEL_BGRA8 = 4
} tfpose_pixel_format;

/* A view of caller-owned (or tfpose_image-owned) pixels: rows of `stride` bytes (stride >= width *
 * channels; padding allowed), top row first. */
typedef struct tfpose_image_view {
    uint8_t* data;
    int32_t width;
    int32_t height;
    size_t stride;
    int32_t format; /* tfpose_pixel_format */
} tfpose_image_view;

typedef struct tfpose_image tfpose_image;

/* Reads an image file (JPEG, PNG, BMP, ...) as BGR8. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_image_read(const char* path, tfpose_image** image);
/* Pixels of an image handle, borrowed (and writable) until the image is freed. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_image_get_view(const tfpose_image* image, tfpose_image_view* view);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_image_free(tfpose_image* image);
/* Writes pixels to a file; the format follows the extension (.png, .jpg, .bmp). */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_image_write(const char* path, const tfpose_image_view* view);

/* ---------------------------------------------------------------------------------------------- */
/* Pose estimation                                                                                 */

#define TFPOSE_PART_COUNT 18 /* COCO-18: nose, neck, r/l shoulder, elbow, wrist, hip, knee, ankle, eyes, ears */

typedef struct tfpose_estimator_options {
    uint32_t struct_size;      /* sizeof(tfpose_estimator_options) */
    int32_t width;             /* network input width; 0 = the model's default (OpenPose 432, multiples of 8; PoseNet 353, 16k+1; CPM/hourglass fixed 192) */
    int32_t height;            /* network input height; 0 = the model's default (OpenPose 368; PoseNet 257; CPM/hourglass 192) */
    int32_t keep_aspect_ratio; /* nonzero: pad instead of stretching */
    int32_t scale_number;      /* scales averaged; 0 = 1 */
    float scale_gap;           /* 0 = 0.25 */
    float upsample_ratio;      /* output upsampling before peak search; 0 = 4 */
    int32_t intra_op_threads;  /* 0 = ONNX Runtime's default */
    const char* detector_model; /* BlazePose: the person detector (model.json or folder); NULL = a blazepose-detector folder beside the landmark model's */
    int32_t segmentation;       /* BlazePose: nonzero computes the person mask (tfpose_people_mask); it costs as much again as the landmarks */
    /* Fields added later: a caller built against a header without them passes a smaller struct_size and runs on the CPU. */
    int32_t device;             /* tfpose_device: where every network of the model runs */
    int32_t device_id;          /* GPU index for CUDA/TensorRT */
} tfpose_estimator_options;
#define TFPOSE_ESTIMATOR_OPTIONS_INIT { sizeof(tfpose_estimator_options), 0, 0, 0, 0, 0.0f, 0.0f, 0, NULL, 0, TFPOSE_DEVICE_CPU, 0 }

typedef struct tfpose_keypoint {
    int32_t present; /* 0: the part was not detected (the other fields are 0) */
    float x, y;      /* image pixels */
    float score;     /* heatmap confidence */
} tfpose_keypoint;

typedef struct tfpose_person {
    float score;
    int32_t part_count; /* parts present */
    tfpose_keypoint parts[TFPOSE_PART_COUNT];
} tfpose_person;

typedef struct tfpose_estimator tfpose_estimator;
typedef struct tfpose_people tfpose_people;

/* Loads a pose model: OpenPose, PoseNet, MoveNet (SinglePose, MultiPose), BlazePose (landmark model; the detector
 * is found beside it or given in options) or a single-person CPM/hourglass heatmap model, as a .pb, a TensorFlow.js
 * model.json or its folder (the kind is detected from the graph, or read from NAME.pose.json beside it). options may be NULL. scale_number/scale_gap and
 * upsample_ratio apply to OpenPose only. tfpose_person holds COCO-18 slots: a PoseNet person fills the 17
 * slots of the same names (no neck); a CPM/hourglass person fills 13 (AI Challenger's head_top has no slot);
 * the JSON of tfpose_people_to_json carries every keypoint of the model's own set ("keypoint_set"). */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_estimator_create(const char* model_path, const tfpose_estimator_options* options,
                                                              tfpose_estimator** estimator);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_estimator_free(tfpose_estimator* estimator);
/* Estimates everyone's pose in an image (GRAY8, BGR8 or BGRA8). The pixels are read during the call only. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_estimate(tfpose_estimator* estimator, const tfpose_image_view* image, tfpose_people** people);

TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_people_free(tfpose_people* people);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_people_count(const tfpose_people* people, size_t* count);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_people_get(const tfpose_people* people, size_t index, tfpose_person* person);
/* Draws the skeletons into the caller's pixels in place (OpenPose colours); the target must have the size
 * of the image the people were estimated on (any format and stride); thickness 0 = 3. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_people_render(const tfpose_people* people, const tfpose_image_view* target, int32_t thickness);
/* OpenPose JSON ({"version":1.3,"people":[{"pose_keypoints_2d":[x,y,c,...]}]}) into the caller's buffer.
 * *length receives strlen of the JSON. With buffer NULL and capacity 0 only the length is reported
 * (success); if capacity < *length + 1 nothing is written and TFPOSE_BUFFER_TOO_SMALL is returned. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_people_to_json(const tfpose_people* people, char* buffer, size_t capacity, size_t* length);

/* Name of a body part ("nose", "neck", ...), a static string. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_part_name(int32_t part, const char** name);

/* ---------------------------------------------------------------------------------------------- */
/* People of any keypoint set (MoveNet's and PoseNet's COCO-17, BlazePose's 33, ...), video frames   */

/* One person in the next frame of a video: single-person models look where the person was in the previous frame
 * (MoveNet's crop, BlazePose's region), people of multi-person models get track ids, keypoints are smoothed over
 * time. timestamp_us (microseconds) must increase from frame to frame; tfpose_estimator_reset_video starts over. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_estimate_frame(tfpose_estimator* estimator, const tfpose_image_view* image,
                                                            int64_t timestamp_us, tfpose_people** people);
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_estimator_reset_video(tfpose_estimator* estimator);

typedef struct tfpose_keypoint_ex {
    uint32_t struct_size; /* sizeof(tfpose_keypoint_ex), set by the caller */
    const char* name;     /* the model's name for it ("left_wrist"), borrowed while the people live */
    int32_t present;      /* 0: not detected (the numbers below are 0) */
    float x, y;           /* image pixels */
    float z;              /* depth where the model gives one (has_z): BlazePose, relative to the hips, in x's scale */
    float score;
    float visibility;     /* BlazePose: probability the keypoint is visible; -1 where the model gives none */
    float presence;       /* BlazePose: probability it is inside the image; -1 where the model gives none */
    int32_t has_z;
} tfpose_keypoint_ex;
#define TFPOSE_KEYPOINT_EX_INIT { sizeof(tfpose_keypoint_ex), NULL, 0, 0.0f, 0.0f, 0.0f, 0.0f, -1.0f, -1.0f, 0 }

/* The model's keypoint set: its name ("coco17", "blazepose33", "openpose-coco18", ...) and keypoint count;
 * name is borrowed while the people live. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_people_keypoint_set(const tfpose_people* people, const char** name, size_t* keypoint_count);
/* Keypoint `keypoint` (in the set's order) of person `person`. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_person_keypoint(const tfpose_people* people, size_t person, size_t keypoint,
                                                             tfpose_keypoint_ex* keypoint_out);
/* The person's id across video frames (tfpose_estimate_frame, multi-person models); -1 when untracked. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_person_track_id(const tfpose_people* people, size_t person, int32_t* track_id);
/* World keypoints in metres (BlazePose): x, y, z, score per keypoint into xyzs (4 floats each, set order).
 * *count receives the keypoint count (0 when the model gives none). With xyzs NULL and capacity 0 only the count is
 * reported; if capacity < 4 * *count floats nothing is written and TFPOSE_BUFFER_TOO_SMALL is returned. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_person_world_keypoints(const tfpose_people* people, size_t person, float* xyzs,
                                                                    size_t capacity, size_t* count);
/* The person segmentation mask of the image the people were found in (BlazePose): width*height floats 0..1, row
 * by row. *width and *height are always set (0 when the model gives no mask). With buffer NULL and capacity 0 only
 * the size is reported; if capacity < width*height nothing is written and TFPOSE_BUFFER_TOO_SMALL is returned. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_people_mask(const tfpose_people* people, float* buffer, size_t capacity,
                                                         int32_t* width, int32_t* height);

/* ---------------------------------------------------------------------------------------------- */
/* COCO keypoint evaluation (what `tfpose pose eval` prints)                                         */

typedef struct tfpose_eval_options {
    uint32_t struct_size;       /* sizeof(tfpose_eval_options) */
    int32_t ground_truth_boxes; /* nonzero: top-down, one estimate per ground-truth person box (not crowd, with keypoints)
                                   grown by box_growth about its centre, instead of one on the whole image; for single-person
                                   models, whose estimator should keep the aspect ratio (keep_aspect_ratio) */
    float box_growth;           /* context around a ground-truth box; 0 = 1.25 */
} tfpose_eval_options;
#define TFPOSE_EVAL_OPTIONS_INIT { sizeof(tfpose_eval_options), 0, 0.0f }

/* The ten numbers pycocotools prints for keypoints (0..1; -1 where nothing of that kind is in the ground truth), and
 * how many of the annotation file's images were estimated and how many could not be read (missing, not an image). */
typedef struct tfpose_coco_stats {
    uint32_t struct_size; /* sizeof(tfpose_coco_stats), set by the caller */
    double ap, ap50, ap75, ap_medium, ap_large;
    double ar, ar50, ar75, ar_medium, ar_large;
    int32_t images_scored;
    int32_t images_skipped;
} tfpose_coco_stats;
#define TFPOSE_COCO_STATS_INIT { sizeof(tfpose_coco_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Runs the estimator over a COCO person_keypoints JSON file (images found under images_dir by file_name) and scores
 * the people as pycocotools' COCOeval does: the same evaluation as `tfpose pose eval`. options may be NULL. A missing
 * annotation file or images folder is TFPOSE_NOT_FOUND, a malformed annotation file or a model whose keypoints have no
 * COCO-17 mapping TFPOSE_INVALID_ARGUMENT, each with a message naming it; images that cannot be read are skipped and
 * counted. It reads every image, so it takes as long as that many estimates. */
TFPOSE_API tfpose_status* TFPOSE_CALL tfpose_evaluate_coco(tfpose_estimator* estimator, const char* annotations_json, const char* images_dir,
                                                           const tfpose_eval_options* options, tfpose_coco_stats* stats);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TFPOSE_H */
