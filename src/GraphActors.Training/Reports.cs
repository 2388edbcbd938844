// What a training run reports: per step, per epoch, per evaluation, and the whole run.
using GraphActors.Sampling;

namespace GraphActors.Training;

/// <summary>One optimisation step: its loss, the task's train metric on the batch (accuracy or AUC) and its size.</summary>
public readonly record struct StepResult(double Loss, double Metric, int Examples);

/// <summary>One epoch: mean loss and train metric over its batches (example-weighted), the validation metric when it was evaluated.</summary>
public sealed record EpochReport(int Epoch, double Loss, double TrainMetric, double? ValMetric, double Seconds, double BatchesPerSecond, int Batches, string MetricName);

/// <summary>An evaluation: every metric of the task, and which one model selection uses.</summary>
public sealed record EvaluationResult(SplitKind Split, IReadOnlyDictionary<string, double> Metrics, string Primary)
{
    public double Value => Metrics[Primary];
    public override string ToString() => string.Join(", ", Metrics.Select(m => $"{m.Key} {m.Value:F4}"));
}

public sealed record TrainingResult(int Epochs, int BestEpoch, EvaluationResult? BestValidation, EvaluationResult? Test, IReadOnlyList<EpochReport> History, bool StoppedEarly);

/// <summary>Where a step's time went (seconds, summed since the last reset): tensors from arrays, forward, backward, optimizer.</summary>
public sealed class StepTimings
{
    public double Convert, Forward, Backward, Optimizer;
    public int Steps;
    public void Reset() { Convert = Forward = Backward = Optimizer = 0; Steps = 0; }
}
