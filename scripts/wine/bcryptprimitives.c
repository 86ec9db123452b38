/* ProcessPrng for Wine 8.0 (Debian 12), which has no bcryptprimitives.dll: Rust's
 * standard library (1.78 and later) takes its random bytes from there on Windows, so
 * test programs cannot start under that Wine without it. Built and used only by
 * scripts/check-windows.sh --wine. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) { return RtlGenRandom(data, (ULONG)size); }
