import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { ViT, decodeSafetensors, encodeSafetensors, timmEncoderWeights } from "../../src/index.js";

/** Builds a safetensors file by hand: header JSON + raw bytes (to test what we did not write). */
function handMade(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe("safetensors", () => {
  it("round-trips names, order, shapes, dtypes, values and metadata; data starts 8-byte aligned", () => {
    const named = { "blocks.0.attn.qkv.weight": tf.tensor2d([[1, -2.5], [3e-8, 4]]), idx: tf.tensor1d([7, -1, 0], "int32"), s: tf.scalar(3.25) };
    const bytes = encodeSafetensors(named, { format: "pt" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    expect(bytes.length).toBe(8 + n + 4 * 4 + 3 * 4 + 4);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header["blocks.0.attn.qkv.weight"]).toEqual({ dtype: "F32", shape: [2, 2], data_offsets: [0, 16] });
    expect(header.idx).toEqual({ dtype: "I32", shape: [3], data_offsets: [16, 28] });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: "pt" });
    expect(Object.keys(tensors)).toEqual(Object.keys(named));
    for (const [k, t] of Object.entries(named)) {
      expect(tensors[k].dtype).toBe(t.dtype);
      expect(tensors[k].shape).toEqual(t.shape);
      expect(values(tensors[k])).toEqual(values(t));
    }
    // A Node Buffer at an odd offset of a shared pool (what fs.readFileSync returns) reads the same.
    const buf = Buffer.concat([Buffer.alloc(3), Buffer.from(bytes)]).subarray(3);
    expect(values(decodeSafetensors(buf).tensors.idx)).toEqual([7, -1, 0]);
    // `include` skips tensors without decoding them.
    expect(Object.keys(decodeSafetensors(bytes, (name) => name === "s").tensors)).toEqual(["s"]);
  });

  it("reads F16, BF16, F64 as float32 and I64 as int32 (PyTorch's other common dtypes)", () => {
    const d = new DataView(new ArrayBuffer(2 * 3 + 2 * 2 + 8 * 2 + 8 * 2));
    [0x3c00, 0xc500, 0x0001].forEach((h, i) => d.setUint16(2 * i, h, true)); // f16: 1, -5, smallest subnormal
    [0x3fc0, 0xc040].forEach((h, i) => d.setUint16(6 + 2 * i, h, true)); // bf16: 1.5, -3
    [0.1, -2].forEach((v, i) => d.setFloat64(10 + 8 * i, v, true));
    [5n, -6n].forEach((v, i) => d.setBigInt64(26 + 8 * i, v, true));
    const file = handMade({
      h: { dtype: "F16", shape: [3], data_offsets: [0, 6] }, b: { dtype: "BF16", shape: [2], data_offsets: [6, 10] },
      f: { dtype: "F64", shape: [2], data_offsets: [10, 26] }, i: { dtype: "I64", shape: [2, 1], data_offsets: [26, 42] },
    }, new Uint8Array(d.buffer));
    const { tensors } = decodeSafetensors(file);
    expect(values(tensors.h)).toEqual([1, -5, 2 ** -24]);
    expect(values(tensors.b)).toEqual([1.5, -3]);
    expect(values(tensors.f)).toEqual([Math.fround(0.1), -2]);
    expect(tensors.i.dtype).toBe("int32");
    expect(tensors.i.shape).toEqual([2, 1]);
    expect(values(tensors.i)).toEqual([5, -6]);
  });

  it("rejects truncated files, bad headers, overlaps, holes and unsupported dtypes with the reason", () => {
    const good = encodeSafetensors({ a: tf.ones([2, 2]), b: tf.zeros([3]) });
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(/shorter than the 8-byte header length/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4))).toThrow(/"b" ends at byte 28 of the data, which has 24 \(truncated file\?\)/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => decodeSafetensors(huge)).toThrow(/header length \d+ exceeds the file/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8))))
      .toThrow(/"b" overlaps another tensor/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8))))
      .toThrow(/bytes 0\.\.4 of the data belong to no tensor/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))))
      .toThrow(/"a" has 8 bytes, but \[3\] of F32 needs 12/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: "U8", shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4))))
      .toThrow(/"a" is U8; supported: F32/);
    expect(() => decodeSafetensors(handMade({ a: { shape: [1] } }, new Uint8Array(0)))).toThrow(/"a" needs a dtype/);
    expect(() => encodeSafetensors({ m: tf.tensor1d([1], "bool") })).toThrow(/"m" is bool; only float32 and int32/);
  });
});

describe("timmEncoderWeights", () => {
  const cfg = { imgSize: 8, patchSize: 4, inChans: 3, embedDim: 8, depth: 1, numHeads: 2, mlpRatio: 2 };
  const shapes = (vit: ViT) => Object.fromEntries([...vit.params].map(([n, v]) => [n, v.shape]));

  it("takes a plain or prefixed state dict, and folds a timm cls-token pos_embed row into cls_token exactly", () => {
    const a = new ViT(cfg, { seed: 1 });
    const b = new ViT(cfg, { seed: 2 });
    const img = tf.randomNormal([2, 3, 8, 8], 0, 1, "float32", 3) as tf.Tensor4D;
    const want = values(a.forward(img).tokens);

    const plain = timmEncoderWeights({ ...a.getWeights(""), "head.weight": tf.zeros([10, 8]) }, shapes(b));
    expect(plain).toMatchObject({ prefix: "", unused: ["head.weight"], foldedClsPos: false });
    b.setWeights(plain.weights);
    expect(values(b.forward(img).tokens)).toEqual(want);

    // timm's default layout: pos_embed [1, 1 + L, D] whose row 0 is added to the cls token.
    const w = a.getWeights("");
    const row = tf.randomNormal([1, 1, 8], 0, 1, "float32", 4);
    const timm = { ...w, cls_token: tf.sub(w.cls_token, row), pos_embed: tf.concat([row, w.pos_embed], 1) };
    const c = new ViT(cfg, { seed: 5 });
    const folded = timmEncoderWeights(Object.fromEntries(Object.entries(timm).map(([n, t]) => [`module.base_encoder.${n}`, t])), shapes(c));
    expect(folded).toMatchObject({ prefix: "module.base_encoder.", foldedClsPos: true });
    c.setWeights(folded.weights);
    const got = values(c.forward(img).tokens);
    expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-5);
  });

  it("prefers base_encoder. among several encoders and names what does not fit", () => {
    const a = new ViT(cfg, { seed: 1 });
    const both = { ...a.getWeights("base_encoder."), ...a.getWeights("momentum_encoder.") };
    expect(timmEncoderWeights(both, shapes(a)).prefix).toBe("base_encoder.");
    expect(() => timmEncoderWeights({ ...a.getWeights("student."), ...a.getWeights("teacher.") }, shapes(a))).toThrow(/several encoders \(weight prefixes "student\.", "teacher\."\)/);
    expect(() => timmEncoderWeights({ x: tf.zeros([1]) }, shapes(a))).toThrow(/no "pos_embed" among 1 weights/);
    const { "norm.bias": _drop, ...partial } = a.getWeights("");
    expect(() => timmEncoderWeights(partial, shapes(a))).toThrow(/missing "norm\.bias" \[8\]/);
    const bigger = new ViT({ ...cfg, imgSize: 12 }, { seed: 1 });
    expect(() => timmEncoderWeights(bigger.getWeights(""), shapes(a))).toThrow(/"pos_embed" is \[1,9,8\], the model needs \[1,4,8\] \(another image size/);
  });
});
