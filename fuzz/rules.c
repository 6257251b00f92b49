/* rules.c: the rule-file loader (src/rules.c) on raw bytes, as the file
 * DIAL_RULES names, and grad using whatever rules loaded: a fixed program
 * differentiating through every kind of primitive, so fuzzed rules get
 * instantiated, compiled and run. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const char program[] =
    "fn h(x) { return x * 2 }\n"
    "fn f(x, y) {\n"
    "    a = exp(x) * sin(y) + cos(x) / (1 + y * y) - tanh(x) ^ 2 + tan(x) % 0.7\n"
    "    b = log(abs(a) + 1) + sqrt(abs(x) + 1) + maximum(x, y) - minimum(x, y)\n"
    "    b = b + sign(x) * floor(y) - ceil(x)\n"
    "    m = outer(x, y) @ transpose(outer(y, x)) + where(x > 0, x, y) + clip(y, -0.5, 0.5)\n"
    "    s = 0\n"
    "    for i in 0..3 checkpoint(2) { s = s + sum(x[i] * y) + h(x[i]) }\n"
    "    while s < 100 { s = s * 2 + argmax(x) }\n"
    "    r = sum(b * b) + mean(m) + prod(x) + max(y) + min(x, 0) + norm(m) + dot(x, y) + s\n"
    "    r = r + sum(concat(x, y)) + sum(stack(x, y)[1]) + sum(sum_to(m, 1, 3))\n"
    "    return r - sum(reshape(x, 3, 1) / 3) + sum(swapaxes(reshape(y, 1, 3), 0, 1)) + -x[::-1][0]\n"
    "}\n"
    "print(grad(f, 0, 1)([0.5, -1.2, 0.8], [1.5, 0.2, -0.3]))\n"
    "print(value_and_grad(h)(3))\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(".rules", data, size);
    setenv("DIAL_RULES", path, 1);
    dial_vm *vm = fuzz_vm();
    fuzz_exec(vm, program, strlen(program), 0, path);
    dial_free(vm);
    return 0;
}
