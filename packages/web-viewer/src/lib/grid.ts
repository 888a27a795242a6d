// Patch-grid geometry: an imgSize x imgSize image cut into (imgSize / patchSize)^2 patches,
// numbered row-major as the ViT's patch embedding does, and drawn at some display size.

export interface Grid {
  /** Patches per side. */
  side: number;
  numPatches: number;
}

export function makeGrid(imgSize: number, patchSize: number): Grid {
  if (!(patchSize > 0 && imgSize > 0) || imgSize % patchSize !== 0) {
    throw new Error(`image size ${imgSize} is not a multiple of patch size ${patchSize}`);
  }
  const side = imgSize / patchSize;
  return { side, numPatches: side * side };
}

/**
 * Patch index under a point given in the displayed element's pixels (e.g. offsetX/Y with the
 * element `width` x `height` on screen); -1 outside the image.
 */
export function patchAt(grid: Grid, x: number, y: number, width: number, height: number): number {
  if (!(x >= 0 && y >= 0 && x < width && y < height)) return -1;
  const col = Math.min(grid.side - 1, Math.floor((x / width) * grid.side));
  const row = Math.min(grid.side - 1, Math.floor((y / height) * grid.side));
  return row * grid.side + col;
}

/** The rectangle of patch `index` in a `size` x `size` drawing (fractional pixels allowed). */
export function patchRect(grid: Grid, index: number, size: number): { x: number; y: number; w: number; h: number } {
  if (!(Number.isInteger(index) && index >= 0 && index < grid.numPatches)) throw new Error(`patch ${index} is outside 0..${grid.numPatches - 1}`);
  const cell = size / grid.side;
  return { x: (index % grid.side) * cell, y: Math.floor(index / grid.side) * cell, w: cell, h: cell };
}

/** "row r, col c" for tooltips. */
export function patchLabel(grid: Grid, index: number): string {
  return `patch ${index} (row ${Math.floor(index / grid.side)}, col ${index % grid.side})`;
}
