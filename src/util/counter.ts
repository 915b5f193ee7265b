/** Told as counted work advances: `done` of `total` items so far. */
export type Counter = (done: number, total: number) => void;
