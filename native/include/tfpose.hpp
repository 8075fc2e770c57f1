// tfpose.hpp - header-only C++17 wrapper of tfpose.h: RAII handles, exceptions, std::string/std::vector.
// Every C status becomes a tfpose::Error (with the C code and message); handles free themselves.
#ifndef TFPOSE_HPP
#define TFPOSE_HPP

#include "tfpose.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tfpose {

/// A failed call: code() is the tfpose_code, what() the library's message.
class Error : public std::runtime_error {
public:
    Error(tfpose_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
    tfpose_code code() const noexcept { return code_; }

private:
    tfpose_code code_;
};

/// Throws for a non-NULL status (and frees it).
inline void check(tfpose_status* status) {
    if (status == nullptr) return;
    const tfpose_code code = tfpose_status_code(status);
    std::string message = tfpose_status_message(status);
    tfpose_status_free(status);
    throw Error(code, message);
}

namespace detail {
// Owns one C handle; Free is the matching tfpose_*_free. Move-only.
template <typename T, tfpose_status* (*Free)(T*)>
class Handle {
public:
    Handle() = default;
    explicit Handle(T* handle) noexcept : handle_(handle) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) reset(std::exchange(other.handle_, nullptr));
        return *this;
    }
    ~Handle() { reset(); }

    T* get() const noexcept { return handle_; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    void reset(T* handle = nullptr) noexcept {
        if (handle_ != nullptr) tfpose_status_free(Free(handle_));  // a destructor must not throw
        handle_ = handle;
    }

private:
    T* handle_ = nullptr;
};
}  // namespace detail

struct Version {
    int major, minor, patch, abi;
};

inline Version version() {
    Version v{};
    check(tfpose_version(&v.major, &v.minor, &v.patch, &v.abi));
    return v;
}

/// Description of a tensor: name, element type, TensorFlow-layout shape (-1 = any size; empty + rank -1 = unknown).
struct TensorInfo {
    std::string name;
    tfpose_dtype dtype = TFPOSE_DTYPE_UNKNOWN;
    int rank = -1;
    std::vector<int64_t> shape;

    static TensorInfo from(const tfpose_tensor_info& info) {
        TensorInfo t;
        t.name = info.name ? info.name : "";
        t.dtype = static_cast<tfpose_dtype>(info.dtype);
        t.rank = info.rank;
        if (info.rank > 0 && info.shape) t.shape.assign(info.shape, info.shape + info.rank);
        return t;
    }
};

template <typename T> struct DType;
template <> struct DType<float> { static constexpr tfpose_dtype value = TFPOSE_DTYPE_FLOAT32; };
template <> struct DType<double> { static constexpr tfpose_dtype value = TFPOSE_DTYPE_FLOAT64; };
template <> struct DType<uint8_t> { static constexpr tfpose_dtype value = TFPOSE_DTYPE_UINT8; };
template <> struct DType<int8_t> { static constexpr tfpose_dtype value = TFPOSE_DTYPE_INT8; };
template <> struct DType<int32_t> { static constexpr tfpose_dtype value = TFPOSE_DTYPE_INT32; };
template <> struct DType<int64_t> { static constexpr tfpose_dtype value = TFPOSE_DTYPE_INT64; };
template <> struct DType<bool> { static constexpr tfpose_dtype value = TFPOSE_DTYPE_BOOL; };

/// A named input tensor that borrows the caller's data for the duration of Session::run.
class Feed {
public:
    template <typename T>
    Feed(std::string name, const std::vector<T>& data, std::vector<int64_t> shape)
        : name_(std::move(name)), dtype_(DType<T>::value), shape_(std::move(shape)), data_(data.data()),
          bytes_(data.size() * sizeof(T)) {}

    tfpose_feed to_c() const {
        return tfpose_feed{name_.c_str(), dtype_, static_cast<int32_t>(shape_.size()), shape_.data(), data_, bytes_};
    }

private:
    std::string name_;
    tfpose_dtype dtype_;
    std::vector<int64_t> shape_;
    const void* data_;
    size_t bytes_;
};

/// The tensors of one run; the data stays in the library's buffers until this object goes away.
class Results {
public:
    explicit Results(tfpose_results* results) : handle_(results) {}

    size_t size() const {
        size_t n = 0;
        check(tfpose_results_count(handle_.get(), &n));
        return n;
    }

    TensorInfo info(size_t index) const {
        tfpose_tensor_info info{};
        check(tfpose_results_get(handle_.get(), index, &info, nullptr, nullptr));
        return TensorInfo::from(info);
    }

    size_t index_of(const std::string& name) const {
        size_t index = 0;
        check(tfpose_results_find(handle_.get(), name.c_str(), &index));
        return index;
    }

    /// A copy of tensor `index` as T (which must match its dtype).
    template <typename T>
    std::vector<T> values(size_t index) const {
        tfpose_tensor_info info{};
        const void* data = nullptr;
        size_t bytes = 0;
        check(tfpose_results_get(handle_.get(), index, &info, &data, &bytes));
        if (info.dtype != DType<T>::value)
            throw Error(TFPOSE_INVALID_ARGUMENT, "result '" + std::string(info.name) + "' has dtype " + std::to_string(info.dtype) +
                                                     ", not " + std::to_string(DType<T>::value));
        const T* p = static_cast<const T*>(data);
        return std::vector<T>(p, p + bytes / sizeof(T));
    }

    template <typename T>
    std::vector<T> values(const std::string& name) const { return values<T>(index_of(name)); }

    tfpose_results* get() const noexcept { return handle_.get(); }

private:
    detail::Handle<tfpose_results, tfpose_results_free> handle_;
};

/// A frozen TensorFlow graph, ready to run (thread-safe run).
class Session {
public:
    explicit Session(const std::string& graph_path, const tfpose_session_options* options = nullptr) {
        tfpose_session* s = nullptr;
        check(tfpose_session_create(graph_path.c_str(), options, &s));
        handle_.reset(s);
    }

    std::vector<TensorInfo> inputs() const { return list(tfpose_session_input_count, tfpose_session_input); }
    std::vector<TensorInfo> outputs() const { return list(tfpose_session_output_count, tfpose_session_output); }

    Results run(const std::vector<Feed>& feeds, const std::vector<std::string>& fetches = {}) {
        std::vector<tfpose_feed> c_feeds;
        c_feeds.reserve(feeds.size());
        for (const auto& f : feeds) c_feeds.push_back(f.to_c());
        std::vector<const char*> c_fetches;
        c_fetches.reserve(fetches.size());
        for (const auto& f : fetches) c_fetches.push_back(f.c_str());
        tfpose_results* results = nullptr;
        check(tfpose_session_run(handle_.get(), c_feeds.data(), c_feeds.size(), c_fetches.empty() ? nullptr : c_fetches.data(),
                                 c_fetches.size(), &results));
        return Results(results);
    }

    tfpose_session* get() const noexcept { return handle_.get(); }

private:
    using CountFn = tfpose_status* (*)(const tfpose_session*, size_t*);
    using InfoFn = tfpose_status* (*)(const tfpose_session*, size_t, tfpose_tensor_info*);

    std::vector<TensorInfo> list(CountFn count_fn, InfoFn info_fn) const {
        size_t n = 0;
        check(count_fn(handle_.get(), &n));
        std::vector<TensorInfo> out;
        for (size_t i = 0; i < n; ++i) {
            tfpose_tensor_info info{};
            check(info_fn(handle_.get(), i, &info));
            out.push_back(TensorInfo::from(info));
        }
        return out;
    }

    detail::Handle<tfpose_session, tfpose_session_free> handle_;
};

/// An image file read into BGR8 pixels owned by the library.
class Image {
public:
    explicit Image(const std::string& path) {
        tfpose_image* image = nullptr;
        check(tfpose_image_read(path.c_str(), &image));
        handle_.reset(image);
    }

    tfpose_image_view view() const {
        tfpose_image_view v{};
        check(tfpose_image_get_view(handle_.get(), &v));
        return v;
    }

    static void write(const std::string& path, const tfpose_image_view& view) { check(tfpose_image_write(path.c_str(), &view)); }

private:
    detail::Handle<tfpose_image, tfpose_image_free> handle_;
};

/// The people found in one image.
class People {
public:
    explicit People(tfpose_people* people) : handle_(people) {}

    size_t size() const {
        size_t n = 0;
        check(tfpose_people_count(handle_.get(), &n));
        return n;
    }

    tfpose_person operator[](size_t index) const {
        tfpose_person p{};
        check(tfpose_people_get(handle_.get(), index, &p));
        return p;
    }

    void render(const tfpose_image_view& target, int thickness = 0) const {
        check(tfpose_people_render(handle_.get(), &target, thickness));
    }

    std::string to_json() const {
        size_t length = 0;
        check(tfpose_people_to_json(handle_.get(), nullptr, 0, &length));
        std::string json(length + 1, '\0');
        check(tfpose_people_to_json(handle_.get(), json.data(), json.size(), &length));
        json.resize(length);
        return json;
    }

    /// The model's keypoint set ("coco17", "blazepose33", ...).
    std::string keypoint_set() const {
        const char* name = nullptr;
        size_t count = 0;
        check(tfpose_people_keypoint_set(handle_.get(), &name, &count));
        return name;
    }

    /// Keypoints per person in the model's own set.
    size_t keypoint_count() const {
        const char* name = nullptr;
        size_t count = 0;
        check(tfpose_people_keypoint_set(handle_.get(), &name, &count));
        return count;
    }

    /// Keypoint `keypoint` of person `person`, in the model's own set (name, x, y, z, score, visibility, presence).
    tfpose_keypoint_ex keypoint(size_t person, size_t keypoint) const {
        tfpose_keypoint_ex k = TFPOSE_KEYPOINT_EX_INIT;
        check(tfpose_person_keypoint(handle_.get(), person, keypoint, &k));
        return k;
    }

    /// The person's id across video frames (Estimator::estimate_frame), -1 when untracked.
    int32_t track_id(size_t person) const {
        int32_t id = -1;
        check(tfpose_person_track_id(handle_.get(), person, &id));
        return id;
    }

    /// World keypoints in metres, 4 floats each (x, y, z, score); empty when the model gives none.
    std::vector<float> world_keypoints(size_t person) const {
        size_t count = 0;
        check(tfpose_person_world_keypoints(handle_.get(), person, nullptr, 0, &count));
        std::vector<float> xyzs(4 * count);
        if (count > 0) check(tfpose_person_world_keypoints(handle_.get(), person, xyzs.data(), xyzs.size(), &count));
        return xyzs;
    }

    /// The segmentation mask (width x height floats, 0..1), empty when the model gives none.
    std::vector<float> mask(int32_t& width, int32_t& height) const {
        check(tfpose_people_mask(handle_.get(), nullptr, 0, &width, &height));
        std::vector<float> values(static_cast<size_t>(width) * static_cast<size_t>(height));
        if (!values.empty()) check(tfpose_people_mask(handle_.get(), values.data(), values.size(), &width, &height));
        return values;
    }

private:
    detail::Handle<tfpose_people, tfpose_people_free> handle_;
};

/// Pose estimation with any supported model (OpenPose, PoseNet, MoveNet, BlazePose, CPM/hourglass).
class Estimator {
public:
    explicit Estimator(const std::string& model_path, const tfpose_estimator_options* options = nullptr) {
        tfpose_estimator* e = nullptr;
        check(tfpose_estimator_create(model_path.c_str(), options, &e));
        handle_.reset(e);
    }

    People estimate(const tfpose_image_view& image) {
        tfpose_people* people = nullptr;
        check(tfpose_estimate(handle_.get(), &image, &people));
        return People(people);
    }

    /// The next frame of a video (timestamps in microseconds, increasing): tracking, smoothing, crops that follow.
    People estimate_frame(const tfpose_image_view& image, int64_t timestamp_us) {
        tfpose_people* people = nullptr;
        check(tfpose_estimate_frame(handle_.get(), &image, timestamp_us, &people));
        return People(people);
    }

    void reset_video() { check(tfpose_estimator_reset_video(handle_.get())); }

private:
    detail::Handle<tfpose_estimator, tfpose_estimator_free> handle_;
};

inline std::string part_name(int part) {
    const char* name = nullptr;
    check(tfpose_part_name(part, &name));
    return name;
}

}  // namespace tfpose

#endif  // TFPOSE_HPP
