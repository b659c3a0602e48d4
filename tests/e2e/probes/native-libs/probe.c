/* The ghc96 probe: GHC-compiled binaries need GMP (Integer) and libffi (foreign calls) at run
 * time. This program links both dynamically, as such binaries do, and uses each. */
#include <ffi.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    mpz_t power;
    mpz_init(power);
    mpz_ui_pow_ui(power, 2, 100);

    ffi_cif cif;
    ffi_type *args[1] = {&ffi_type_sint};
    int value = -42;
    void *values[1] = {&value};
    ffi_arg result;
    if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, &ffi_type_sint, args) != FFI_OK) return 1;
    ffi_call(&cif, FFI_FN(abs), &result, values);

    gmp_printf("probe ok: gmp 2^100=%Zd ffi abs(-42)=%d\n", power, (int)result);
    mpz_clear(power);
    return 0;
}
