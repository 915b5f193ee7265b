/* The BLAS the kernels call, opened at run time by blas.c (NULL until a library loads). */
#ifndef PEFT_NATIVE_BLAS_H
#define PEFT_NATIVE_BLAS_H

/* CBLAS's row-major and transpose constants and sgemm's signature (cblas.h), declared here so no header is needed. */
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);

extern sgemm_fn peft_sgemm;

#endif
