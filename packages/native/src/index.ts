/** @dilemma/native — filled in by the native engine work (issue 4). */
export function isAvailable(): boolean {
  return false;
}
