// Registers tfjs-core's gradients (tfjs-core alone registers none). In the built package this
// file is replaced by a bundle (scripts/bundle-gradients.mjs) so that it also loads in Node.
import "@tensorflow/tfjs-core/dist/register_all_gradients";
