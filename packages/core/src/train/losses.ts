// SSL losses: MoCo v3 contrastive, SimCLR NT-Xent, DINO (all via logSoftmax for stability).
import * as tf from "@tensorflow/tfjs-core";

/** Row-wise L2 normalisation as `F.normalize(x, dim=1)`: `x / max(||x||, 1e-12)`. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12)));
}

/** Mean over rows of `-logp[i, target(i)]`, with the targets given as a 0/1 mask [N, M]. */
function nllWithMask(logp: tf.Tensor2D, targetMask: tf.Tensor2D): tf.Scalar {
  // where (not mul) so that -inf entries outside the targets give no NaN
  const picked = tf.where(tf.cast(targetMask, "bool"), logp, tf.zerosLike(logp));
  return tf.div(tf.neg(tf.sum(picked)), logp.shape[0]);
}

/**
 * MoCo v3 contrastive loss: `CE(normalize(q) @ normalize(k)^T / T, arange(B)) * 2T`.
 * q, k: [B, dim]; the positives of row i is key i.
 */
export function contrastiveLoss(q: tf.Tensor2D, k: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const logits = tf.div(tf.matMul(l2Normalize(q), l2Normalize(k), false, true), temperature);
    const ce = nllWithMask(tf.logSoftmax(logits) as tf.Tensor2D, tf.eye(q.shape[0]));
    return tf.mul(ce, 2 * temperature);
  });
}

/**
 * SimCLR NT-Xent: z [2N, d], rows i and i+N are the two views of sample i. Cosine similarity / T
 * with the self-similarity excluded, mean cross-entropy over all 2N rows.
 */
export function ntXentLoss(z: tf.Tensor2D, temperature: number): tf.Scalar {
  const n2 = z.shape[0];
  if (n2 % 2 !== 0 || n2 < 2) throw new Error(`ntXentLoss: z needs an even number of rows (got ${n2})`);
  return tf.tidy(() => {
    const zn = l2Normalize(z);
    const sim = tf.div(tf.matMul(zn, zn, false, true), temperature);
    const self = tf.cast(tf.eye(n2), "bool");
    const masked = tf.where(self, tf.fill([n2, n2], -Infinity), sim) as tf.Tensor2D;
    // positive of row i is row (i + N) mod 2N: the identity with its halves swapped
    const eyeN = tf.eye(n2 / 2);
    const zerosN = tf.zerosLike(eyeN);
    const positives = tf.concat([tf.concat([zerosN, eyeN], 1), tf.concat([eyeN, zerosN], 1)], 0) as tf.Tensor2D;
    return nllWithMask(tf.logSoftmax(masked) as tf.Tensor2D, positives);
  });
}

export interface DinoLossOptions {
  /** Total crops in `student` (global crops first). */
  nCrops: number;
  /** Global crops (the teacher's views); default 2. */
  nGlobal?: number;
  studentTemp: number;
  teacherTemp: number;
}

/**
 * DINO loss. student [nCrops*B, K] (crop-major, global crops first), teacher [nGlobal*B, K]
 * (raw outputs, treated as constants), center [1, K]. Mean over the pairs (teacher crop iq,
 * student crop v != iq) of `mean_b sum_k -softmax((t - center)/Tt) * log_softmax(s/Ts)`.
 */
export function dinoLoss(student: tf.Tensor2D, teacher: tf.Tensor2D, center: tf.Tensor, o: DinoLossOptions): tf.Scalar {
  const nGlobal = o.nGlobal ?? 2;
  if (student.shape[0] % o.nCrops !== 0 || teacher.shape[0] % nGlobal !== 0
    || student.shape[0] / o.nCrops !== teacher.shape[0] / nGlobal) {
    throw new Error(`dinoLoss: student rows ${student.shape[0]} / ${o.nCrops} crops and teacher rows ${teacher.shape[0]} / ${nGlobal} global crops disagree`);
  }
  return tf.tidy(() => {
    const logS = tf.split(tf.logSoftmax(tf.div(student, o.studentTemp)), o.nCrops, 0);
    const probT = tf.split(tf.softmax(tf.div(tf.sub(teacher, center), o.teacherTemp)), nGlobal, 0);
    let total: tf.Scalar = tf.scalar(0);
    let terms = 0;
    for (let iq = 0; iq < nGlobal; iq++) {
      for (let v = 0; v < o.nCrops; v++) {
        if (v === iq) continue;
        total = tf.add(total, tf.neg(tf.mean(tf.sum(tf.mul(probT[iq], logS[v]), 1))));
        terms++;
      }
    }
    return tf.div(total, terms);
  });
}

/** DINO center update: `m * center + (1 - m) * mean over rows of the raw teacher outputs`. */
export function dinoCenterUpdate(center: tf.Tensor, teacher: tf.Tensor2D, momentum: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(center, momentum), tf.mul(tf.mean(teacher, 0, true), 1 - momentum)));
}
