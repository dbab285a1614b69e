/* TEMPORARY: weak defaults until the device files land; removed at integration. */
#include <stdbool.h>
struct vm;
__attribute__((weak)) void pci_host_init(struct vm *vm) { (void)vm; }
__attribute__((weak)) void vnet_init(struct vm *vm, const char *s) { (void)vm; (void)s; }
__attribute__((weak)) void vfio_init(struct vm *vm, const char *b, bool t) { (void)vm; (void)b; (void)t; }
