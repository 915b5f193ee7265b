export const demoUsage = "peft demo [--backend B] [--out DIR]";
export const demo = async (_argv: readonly string[]): Promise<number> => 1;
