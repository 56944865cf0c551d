/* The OpenMP runtime calls the library makes, for a build without OpenMP (the browser: one thread). These are
 * the values the OpenMP specification gives for a serial program (OpenMP 5.2 §18.2: "stubs for runtime library
 * routines"): one thread, thread number 0. The #pragma omp lines are ignored by a compiler without -fopenmp. */
int omp_get_max_threads(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void) { return 1; }
int omp_get_thread_num(void) { return 0; }
int omp_get_num_threads(void) { return 1; }
