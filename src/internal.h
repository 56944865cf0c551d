/* Declarations shared between library files that are not part of the public API. */
#ifndef SP_INTERNAL_H
#define SP_INTERNAL_H
#include <stddef.h>

int sp_list_dir(const char *dir, char *buf, size_t n);

#endif
