// run_graph - load a frozen TensorFlow graph from C++ with tfpose.hpp, feed a tensor, print the output.
//
//   run_graph GRAPH.pb|model.json [--input NAME] [--shape D0,D1,...] [--fetch NAME]... [--save-input IN.npy]
//                      [--save-output OUT.npy] [--print N]
//
// The input (the first graph input unless --input) is filled with a fixed pattern, so runs are
// repeatable; --shape replaces the graph's unknown (-1) dimensions, which otherwise become 1.
// --save-input/--save-output write float32 .npy files (e.g. to compare with `tfpose graph run`).
#include "tfpose.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

// NumPy .npy v1.0, little-endian float32, C order.
void write_npy(const std::string& path, const std::vector<float>& data, const std::vector<int64_t>& shape) {
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) dims += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot write " + path);
    f.write("\x93NUMPY\x01\x00", 8);
    const uint16_t length = static_cast<uint16_t>(header.size());
    const char len_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
    f.write(len_bytes, 2);
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
}

}  // namespace

int main(int argc, char** argv) {
    std::string graph, input_name, save_input, save_output, shape_arg;
    std::vector<std::string> fetches;
    size_t print_count = 8;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--input") input_name = next();
        else if (a == "--shape") shape_arg = next();
        else if (a == "--fetch") fetches.push_back(next());
        else if (a == "--save-input") save_input = next();
        else if (a == "--save-output") save_output = next();
        else if (a == "--print") print_count = std::stoul(next());
        else graph = a;
    }
    if (graph.empty()) {
        std::cerr << "usage: run_graph GRAPH.pb [--input NAME] [--shape D0,D1,...] [--fetch NAME]... [--save-input IN.npy] "
                     "[--save-output OUT.npy] [--print N]\n";
        return 2;
    }

    try {
        tfpose::Session session(graph);
        for (const auto& in : session.inputs()) std::cout << "input  " << in.name << " dtype " << in.dtype << " " << shape_text(in.shape) << "\n";
        for (const auto& out : session.outputs()) std::cout << "output " << out.name << " dtype " << out.dtype << " " << shape_text(out.shape) << "\n";

        const auto inputs = session.inputs();
        if (inputs.empty()) throw std::runtime_error("the graph has no inputs");
        tfpose::TensorInfo input = inputs.front();
        if (!input_name.empty()) {
            bool found = false;
            for (const auto& in : inputs)
                if (in.name == input_name) { input = in; found = true; }
            if (!found) input.name = input_name;  // let the library report an unknown name
        }
        std::vector<int64_t> shape;
        if (!shape_arg.empty()) {
            std::stringstream ss(shape_arg);
            for (std::string d; std::getline(ss, d, ',');) shape.push_back(std::stoll(d));
        } else {
            if (input.rank < 0) throw std::runtime_error("input '" + input.name + "' has an unknown rank; pass --shape");
            for (auto d : input.shape) shape.push_back(d < 0 ? 1 : d);
        }
        int64_t count = 1;
        for (auto d : shape) count *= d;
        std::vector<float> data(static_cast<size_t>(count));
        for (int64_t i = 0; i < count; ++i) data[static_cast<size_t>(i)] = static_cast<float>((i * 37) % 101) / 100.0f - 0.5f;
        if (!save_input.empty()) write_npy(save_input, data, shape);

        std::cout << "feed   " << input.name << " float32 " << shape_text(shape) << "\n";
        tfpose::Results results = session.run({tfpose::Feed(input.name, data, shape)}, fetches);
        for (size_t r = 0; r < results.size(); ++r) {
            const auto info = results.info(r);
            std::cout << "result " << info.name << " dtype " << info.dtype << " shape " << shape_text(info.shape) << "\n";
            if (info.dtype != TFPOSE_DTYPE_FLOAT32) continue;
            const auto values = results.values<float>(r);
            std::cout << "  values";
            for (size_t i = 0; i < values.size() && i < print_count; ++i) std::printf(" %.6g", values[i]);
            std::cout << (values.size() > print_count ? " ..." : "") << "\n";
            if (r == 0 && !save_output.empty()) write_npy(save_output, values, info.shape);
        }
        return 0;
    } catch (const tfpose::Error& e) {
        std::cerr << "error: " << e.what() << " (code " << e.code() << ")\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
