// SSL methods (MoCo v3, SimCLR, DINO) with DILEMMA, losses, AdamW, schedules.
export {};
