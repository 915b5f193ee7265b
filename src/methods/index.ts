export { lora, type LoraOptions } from "./lora.js";
export { linearProbe } from "./linearProbe.js";
export { fullFineTuning } from "./fullFineTuning.js";
export { fourierFT, type FourierFTOptions } from "./fourierFT.js";
export { bitFit } from "./bitFit.js";
export { biLoRA, type BiLoRAOptions } from "./biLoRA.js";
export { rlrr } from "./rlrr.js";
export { ssf } from "./ssf.js";
