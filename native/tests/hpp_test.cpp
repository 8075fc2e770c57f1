// hpp_test - the C++ wrapper: errors become tfpose::Error with the C code and message, handles are
// move-only and freed exactly once (no live handle is left when the objects are gone).
//   hpp_test GRAPH.pb
#include "tfpose.hpp"

#include <cstdio>
#include <cstring>
#include <utility>

static int failures = 0;

static void expect(bool ok, const char* what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
}

template <typename F>
static void expect_error(F&& f, tfpose_code code, const char* fragment, const char* what) {
    try {
        f();
        expect(false, what);
    } catch (const tfpose::Error& e) {
        std::printf("     (%s)\n", e.what());
        expect(e.code() == code && std::strstr(e.what(), fragment) != nullptr, what);
    }
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: hpp_test GRAPH.pb\n");
        return 2;
    }
    {
        expect_error([] { tfpose::Session s("/no/such/graph.pb"); }, TFPOSE_NOT_FOUND, "graph.pb", "a missing graph throws NOT_FOUND");
        tfpose::Session session(argv[1]);
        const auto input = session.inputs().at(0);
        std::vector<float> data(784, 0.5f);
        expect_error([&] { session.run({tfpose::Feed("no_such_input", data, {1, 784})}); }, TFPOSE_INVALID_ARGUMENT, "no_such_input",
                     "an unknown feed name throws INVALID_ARGUMENT");
        expect_error([&] { session.run({tfpose::Feed(input.name, data, {1, 783})}); }, TFPOSE_INVALID_ARGUMENT, "byte_size",
                     "a wrong size throws INVALID_ARGUMENT");
        tfpose::Results results = session.run({tfpose::Feed(input.name, data, {1, 784})});
        expect(results.size() == 1 && results.info(0).shape == std::vector<int64_t>{1, 10}, "one [1,10] result");
        expect(results.values<float>(0) == results.values<float>("output:0"), "values by index and by name agree");
        expect_error([&] { results.values<int32_t>(0); }, TFPOSE_INVALID_ARGUMENT, "dtype", "reading float data as int32 throws");

        tfpose::Session moved = std::move(session);
        expect(session.get() == nullptr && moved.get() != nullptr, "a moved-from session is empty");
        expect_error([&] { session.inputs(); }, TFPOSE_INVALID_ARGUMENT, "NULL", "using a moved-from session throws");
        size_t live = 0;
        tfpose::check(tfpose_live_handles(&live));
        expect(live == 2, "two live handles (session and results)");
    }
    size_t live = 99;
    tfpose::check(tfpose_live_handles(&live));
    expect(live == 0, "destructors freed every handle");
    std::printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
