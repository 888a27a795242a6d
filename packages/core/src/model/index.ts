// ViT, DILEMMA sampling and op, detection head and metrics, weight (de)serialisation.
export {};
