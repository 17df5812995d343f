/**
 * Whether a string can be stored as sent by both databases: PostgreSQL refuses U+0000 in text, and both drivers
 * encode a lone UTF-16 surrogate as U+FFFD (the stored value would differ from the one sent).
 */
export function badString(s: string): string | null {
  if (s.includes('\u0000')) return 'strings must not contain NUL (U+0000)';
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return 'strings must be well-formed Unicode (a lone UTF-16 surrogate cannot be stored)';
  return null;
}
