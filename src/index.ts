/**
 * peft-dsl: PEFT methods for vision transformers as typed data, compiled to TensorFlow.js.
 * Write a Method with the combinators below, then count, describe, compile, train, merge it.
 */
export * from "./dsl/selector.js";
export * from "./dsl/transform.js";
export { customPrimitive, CustomPrimitiveError, type Custom, type CustomPrimitive, type CustomPrimitiveSpec } from "./primitives/custom.js";
export { primitives } from "./primitives/registry.js";
export type { Primitive, Composition, TensorSpec, Tensors, Values, Init } from "./primitives/primitive.js";
export { struct, intIn, positive, finite, withDefault, literalOf, type InputOf } from "./util/codecKit.js";
export * from "./dsl/method.js";
export * from "./dsl/loss.js";
export { lossTermKinds } from "./losses/registry.js";
export type { LossTermKind, LossContext, Context64, LossParam } from "./losses/lossTerm.js";
export * from "./dsl/rule.js";
export type * from "./dsl/experiment.js";
export { taskClasses, defaultMetrics } from "./dsl/experiment.js";
export { decodeExperiment, decodeMethod, ExperimentCodec, MethodCodec, SelectorCodec, TransformCodec } from "./dsl/codecs.js";
export type {
  ExperimentInput,
  MethodInput,
  TaskInput,
  SplitInput,
  AdamWInput,
  ScheduleInput,
  BackboneInput,
  AugmentInput,
  MetricsInput,
} from "./dsl/codecs.js";
export * from "./methods/index.js";
export { presets, vitB16, type VitConfig } from "./models/vitConfig.js";
export { vitForward, clsFeature, meanFeature, type VitAccess, type VitOutput } from "./models/vit.js";
export {
  readBackbone,
  readNpzBackbone,
  atImageSize,
  backboneBytes,
  withZeroHead,
  type Backbone,
  type Weights,
  type HostTensor,
  type ArchitectureSource,
} from "./models/backbone.js";
export { hubConfig, timmHubConfig, inferArchitecture, architectureConfig, type PretrainedCfg } from "./models/timmConfig.js";
export { timmArchitectures } from "./models/timmArchitectures.js";
export { readBackboneFile, type ReadOptions } from "./train/loadBackbone.js";
export { toHfPeft, type HfPeftAdapter } from "./interpreters/hfPeft/export.js";
export { fromHfPeft, type ImportedAdapter } from "./interpreters/hfPeft/import.js";
export { torchRandperm } from "./util/torchRandperm.js";
export { initVit } from "./models/initVit.js";
export { readSafetensors, writeSafetensors, SafetensorsError } from "./models/safetensors.js";
export { compile, type Program, type CompileOptions } from "./interpreters/compile/program.js";
export { trainer, type Trainer } from "./interpreters/compile/trainer.js";
export { countMethod, type CountReport } from "./interpreters/count.js";
export { describeMethod } from "./interpreters/describe.js";
export { representationMetrics, type RepresentationMetrics } from "./interpreters/representation.js";
export { mergedBackbone } from "./interpreters/merge.js";
export { referenceForward } from "./interpreters/reference/forward.js";
export { adapterBytes, readAdapter, adapterFormat, type AdapterFile } from "./interpreters/adapterFile.js";
export { MethodError } from "./interpreters/methodError.js";
export { loadBackend, releaseBackend, backendNames, tfBackendLayer, TfBackend, type BackendName } from "./train/backend.js";
export { runExperiment, type RunOptions, type RunResult } from "./train/runExperiment.js";
export { streamProgress, silentProgress, type Progress } from "./train/progress.js";
export { buildTask } from "./data/task.js";
export { decide, budgets, trainingUnits, emptyConfiguration, type Unit, type Configuration } from "./interpreters/rules/decide.js";
export { candidateUnits } from "./interpreters/rules/units.js";
export { configuredMethod, compileConfiguration, migrate } from "./interpreters/rules/configuration.js";
export { reconfigureCycle, type ReconfigurationRecord } from "./interpreters/rules/reconfigure.js";
export { configurationHeatmap } from "./interpreters/rules/configurationHeatmap.js";
