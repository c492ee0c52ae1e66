import Model

/// The FLOP model of a run, shared by `grid plan` (estimates) and the trainer (summary.json's `train_flops`).
public enum TrainingCost {
    /// FLOPs of `steps` training steps with their evaluations: `trainingFLOPsPerToken` (6N + 12·L·d·T) per trained
    /// token, a third of that (the forward pass) per evaluated token; an evaluation every `eval_interval` steps on
    /// `eval_batches` batches and at the last step, which also evaluates `final_eval_batches` when that differs.
    public static func flops(config c: TrainConfig, model: ModelConfig, steps: Int) -> Double {
        let perStep = c.batchSize * c.contextLength
        let evals = steps / c.evalInterval + (steps % c.evalInterval == 0 ? 0 : 1)
        let finalBatches = c.finalEvalBatches == c.evalBatches ? 0 : c.finalEvalBatches
        let evalTokens = (evals * c.evalBatches + finalBatches) * perStep
        let f = model.trainingFLOPsPerToken
        return f * Double(steps * perStep) + f / 3 * Double(evalTokens)
    }
}
