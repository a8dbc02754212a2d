/*
 * A test-only stand-in for Windows' bcryptprimitives.dll, whose ProcessPrng the Bun runtime
 * imports: Wine 8 (Debian bookworm) has no bcryptprimitives.dll; Wine 9 and later, and Windows,
 * have their own, and then this one is not used. It fills the buffer from the system's RNG
 * through BCryptGenRandom, as Windows' ProcessPrng does.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
