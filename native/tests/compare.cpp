// tfpose_compare - checks the examples' outputs against the C# API's, without using libtfpose.
//
//   tfpose_compare pose EXPECTED.json ACTUAL.json [PIXELS]   OpenPose JSON: same people count, every
//                                                              person matched, same parts, positions within PIXELS
//   tfpose_compare npy EXPECTED.npy ACTUAL.npy [ATOL]          float32 .npy: same shape, |a - b| <= ATOL
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Every "pose_keypoints_2d":[...] array of an OpenPose JSON, as 54 numbers per person.
std::vector<std::vector<double>> read_people(const std::string& path) {
    const std::string text = read_file(path);
    const std::string key = "\"pose_keypoints_2d\"";
    std::vector<std::vector<double>> people;
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
        size_t open = text.find('[', at), close = text.find(']', open);
        if (open == std::string::npos || close == std::string::npos) throw std::runtime_error(path + ": malformed keypoint array");
        std::vector<double> values;
        std::string body = text.substr(open + 1, close - open - 1);
        std::stringstream ss(body);
        for (std::string item; std::getline(ss, item, ',');) values.push_back(std::strtod(item.c_str(), nullptr));
        if (values.size() != 54) throw std::runtime_error(path + ": a person has " + std::to_string(values.size()) + " numbers, not 54");
        people.push_back(values);
    }
    if (text.find("\"people\"") == std::string::npos) throw std::runtime_error(path + ": not an OpenPose JSON");
    return people;
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
    double worst = 0;
    for (int p = 0; p < 18; ++p) {
        const bool pa = a[p * 3 + 2] > 0, pb = b[p * 3 + 2] > 0;
        if (pa != pb) return 1e9;
        if (pa) worst = std::fmax(worst, std::hypot(a[p * 3] - b[p * 3], a[p * 3 + 1] - b[p * 3 + 1]));
    }
    return worst;
}

int compare_pose(const std::string& expected_path, const std::string& actual_path, double tolerance) {
    const auto expected = read_people(expected_path), actual = read_people(actual_path);
    std::printf("people: expected %zu, actual %zu\n", expected.size(), actual.size());
    if (expected.size() != actual.size()) return 1;
    std::vector<bool> used(actual.size());
    int keypoints = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
        size_t best = actual.size();
        double best_d = 1e18;
        for (size_t j = 0; j < actual.size(); ++j) {
            if (used[j]) continue;
            const double d = distance(expected[i], actual[j]);
            if (d < best_d) { best_d = d; best = j; }
        }
        if (best == actual.size() || best_d > tolerance) {
            std::printf("person %zu: no match within %.3f px (closest %.3f px or a different set of parts)\n", i, tolerance, best_d);
            return 1;
        }
        used[best] = true;
        for (int p = 0; p < 18; ++p) {
            if (expected[i][p * 3 + 2] <= 0) continue;
            ++keypoints;
            if (std::fabs(expected[i][p * 3 + 2] - actual[best][p * 3 + 2]) > 0.01) {
                std::printf("person %zu part %d: score %.5f vs %.5f\n", i, p, expected[i][p * 3 + 2], actual[best][p * 3 + 2]);
                return 1;
            }
        }
        std::printf("person %zu: matched, max keypoint distance %.4f px\n", i, best_d);
    }
    std::printf("OK: %zu people, %d keypoints match\n", expected.size(), keypoints);
    return 0;
}

struct Npy {
    std::vector<long long> shape;
    std::vector<float> data;
};

Npy read_npy(const std::string& path) {
    const std::string bytes = read_file(path);
    if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) throw std::runtime_error(path + ": not a .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    size_t header_len, offset;
    if (major == 1) {
        header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
        offset = 10;
    } else {
        header_len = 0;
        for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
        offset = 12;
    }
    const std::string header = bytes.substr(offset, header_len);
    if (header.find("'<f4'") == std::string::npos) throw std::runtime_error(path + ": only little-endian float32 is compared (" + header + ")");
    if (header.find("'fortran_order': True") != std::string::npos) throw std::runtime_error(path + ": Fortran order");
    Npy npy;
    const size_t open = header.find('(', header.find("'shape'")), close = header.find(')', open);
    std::stringstream ss(header.substr(open + 1, close - open - 1));
    for (std::string d; std::getline(ss, d, ',');)
        if (d.find_first_of("0123456789") != std::string::npos) npy.shape.push_back(std::atoll(d.c_str()));
    long long count = 1;
    for (auto d : npy.shape) count *= d;
    const size_t start = offset + header_len;
    if (bytes.size() - start != static_cast<size_t>(count) * 4) throw std::runtime_error(path + ": data size does not match the shape");
    npy.data.resize(static_cast<size_t>(count));
    std::memcpy(npy.data.data(), bytes.data() + start, npy.data.size() * 4);
    return npy;
}

int compare_npy(const std::string& expected_path, const std::string& actual_path, double atol) {
    const Npy e = read_npy(expected_path), a = read_npy(actual_path);
    auto text = [](const std::vector<long long>& s) {
        std::string t = "[";
        for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
        return t + "]";
    };
    std::printf("shape: expected %s, actual %s\n", text(e.shape).c_str(), text(a.shape).c_str());
    if (e.shape != a.shape) return 1;
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < e.data.size(); ++i) {
        const double d = std::fabs(static_cast<double>(e.data[i]) - a.data[i]);
        if (!(d <= worst)) { worst = d; at = i; }  // also catches NaN
    }
    std::printf("max |expected - actual| = %.3g at %zu (tolerance %.3g) over %zu values\n", worst, at, atol, e.data.size());
    return worst <= atol ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc >= 4 && std::strcmp(argv[1], "pose") == 0) return compare_pose(argv[2], argv[3], argc > 4 ? std::atof(argv[4]) : 0.5);
        if (argc >= 4 && std::strcmp(argv[1], "npy") == 0) return compare_npy(argv[2], argv[3], argc > 4 ? std::atof(argv[4]) : 1e-5);
        std::fprintf(stderr, "usage: tfpose_compare pose EXPECTED.json ACTUAL.json [PIXELS] | npy EXPECTED.npy ACTUAL.npy [ATOL]\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
}
