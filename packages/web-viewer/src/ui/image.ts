// Getting an image to the model's input size: samples are already at training size; a dropped
// file is centre-cropped to a square and resized.

export async function loadImageSource(src: string | Blob): Promise<ImageBitmap | HTMLImageElement> {
  if (typeof src !== "string") return createImageBitmap(src);
  const img = new Image();
  img.src = src;
  try {
    await img.decode();
  } catch {
    throw new Error(`could not load image ${src}`);
  }
  return img;
}

/** The image as an imgSize x imgSize canvas (centre crop, smooth downscale). */
export function toSquare(img: ImageBitmap | HTMLImageElement, size: number): HTMLCanvasElement {
  const w = "naturalWidth" in img ? img.naturalWidth : img.width;
  const hgt = "naturalHeight" in img ? img.naturalHeight : img.height;
  const side = Math.min(w, hgt);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(img, (w - side) / 2, (hgt - side) / 2, side, side, 0, 0, size, size);
  return canvas;
}

export function rgbaOf(canvas: HTMLCanvasElement): Uint8ClampedArray {
  return canvas.getContext("2d", { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height).data;
}
