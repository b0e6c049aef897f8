using Learngene.Diffusion;
using Learngene.Metrics;
using Learngene.Models;
using Learngene.Models.Layers;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Diffusion;

/// <summary>The diffusion process and samplers, apart from any network.</summary>
public class DiffusionTests
{
    static readonly NoiseSchedule Schedule = new();

    [Fact]
    public void The_forward_process_matches_its_closed_form_with_dits_linear_betas()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal(1e-4, Schedule.Betas[0], 12);
        Assert.Equal(0.02, Schedule.Betas[^1], 12);
        double product = 1;
        for (int step = 0; step < 500; step++) product *= 1 - Schedule.Betas[step];
        Assert.Equal(product, Schedule.AlphasCumprod[499], 12);
        var x0 = torch.randn(4, 1, 8, 8);
        var noise = torch.randn(4, 1, 8, 8);
        var t = torch.tensor(new long[] { 0, 10, 499, 999 });
        var xt = Schedule.AddNoise(x0, t, noise);
        for (int i = 0; i < 4; i++)
        {
            double a = Schedule.AlphasCumprod[t[i].item<long>()];
            Assert.True(xt[i].allclose(Math.Sqrt(a) * x0[i] + Math.Sqrt(1 - a) * noise[i], atol: 1e-6));
        }
        Assert.True(Schedule.AlphasCumprod[^1] < 1e-4); // the last step is nearly pure noise
    }

    [Theory]
    [InlineData(Prediction.Velocity)]
    [InlineData(Prediction.Noise)]
    public void A_target_decomposes_back_into_the_clean_image_and_the_noise(Prediction kind)
    {
        using var scope = torch.NewDisposeScope();
        var x0 = torch.randn(3, 1, 4, 4, dtype: float64);
        var noise = torch.randn(3, 1, 4, 4, dtype: float64);
        var t = torch.tensor(new long[] { 1, 400, 900 });
        var xt = Schedule.AddNoise(x0, t, noise);
        var (x0Back, noiseBack) = Schedule.Decompose(kind, Schedule.Target(kind, x0, t, noise), xt, t);
        Assert.True(x0Back.allclose(x0, atol: 1e-8));
        Assert.True(noiseBack.allclose(noise, atol: 1e-8));
    }

    static Tensor Toy(Tensor xt, Tensor t, Tensor labels) => 0.1 * xt + 0.01 * labels.to(float32).view(-1, 1, 1, 1);

    [Theory]
    [InlineData(Prediction.Velocity)]
    [InlineData(Prediction.Noise)]
    public void Ddim_with_eta_one_over_consecutive_steps_is_ddpms_posterior_step(Prediction kind)
    {
        using var scope = torch.NewDisposeScope();
        var sampler = new Sampler(Schedule, kind);
        var xt = torch.randn(2, 1, 4, 4, dtype: float64);
        var prediction = torch.randn(2, 1, 4, 4, dtype: float64);
        var noise = torch.randn(2, 1, 4, 4, dtype: float64);
        foreach (int t in new[] { 999, 500, 1 })
            Assert.True(sampler.DdimStep(prediction, xt, t, t - 1, 1.0, noise).allclose(sampler.DdpmStep(prediction, xt, t, noise), atol: 1e-8), $"t = {t}");
    }

    [Fact]
    public void Clipping_steps_from_the_clean_image_clamped_to_the_data_range_and_the_noise_it_implies()
    {
        using var scope = torch.NewDisposeScope();
        var sampler = new Sampler(Schedule, Prediction.Noise);
        var xt = torch.randn(2, 1, 4, 4, dtype: float64);
        var prediction = 3 * torch.randn(2, 1, 4, 4, dtype: float64); // implies clean images far outside [−1, 1]
        int t = 600, previous = 400;
        double a = Schedule.AlphasCumprod[t], aPrev = Schedule.AlphasCumprod[previous];
        var x0 = ((xt - Math.Sqrt(1 - a) * prediction) / Math.Sqrt(a)).clamp(-1, 1);
        var eps = (xt - Math.Sqrt(a) * x0) / Math.Sqrt(1 - a);
        var expected = Math.Sqrt(aPrev) * x0 + Math.Sqrt(1 - aPrev) * eps;
        Assert.True(sampler.DdimStep(prediction, xt, t, previous, 0, null, clip: true).allclose(expected, atol: 1e-10));
        Assert.False(sampler.DdimStep(prediction, xt, t, previous, 0, null).allclose(expected, atol: 1e-3));
    }

    [Fact]
    public void Ddim_with_eta_zero_is_deterministic_for_a_seed()
    {
        using var scope = torch.NewDisposeScope();
        var sampler = new Sampler(Schedule, Prediction.Velocity);
        var labels = torch.tensor(new long[] { 0, 3 });
        Tensor Draw(ulong seed)
        {
            using var generator = new Generator(seed);
            return sampler.Sample(Toy, labels, [2, 1, 4, 4], steps: 20, guidance: 2, nullClass: 10, generator: generator);
        }
        Assert.True(Draw(7).allclose(Draw(7), rtol: 0, atol: 0));
        Assert.False(Draw(7).allclose(Draw(8)));
        Assert.Equal(20, sampler.Timesteps(20).Length);
        Assert.Equal(999, sampler.Timesteps(20)[0]);
        Assert.Equal(0, sampler.Timesteps(20)[^1]);
    }

    [Fact]
    public void Guidance_one_is_the_conditional_prediction_and_guidance_mixes_with_the_null_class()
    {
        using var scope = torch.NewDisposeScope();
        var xt = torch.randn(2, 1, 4, 4);
        var t = torch.tensor(new long[] { 5, 5 });
        var labels = torch.tensor(new long[] { 1, 2 });
        Assert.True(Sampler.Guided(Toy, xt, t, labels, 1, 10).allclose(Toy(xt, t, labels), rtol: 0, atol: 0));
        var guided = Sampler.Guided(Toy, xt, t, labels, 4, 10);
        var uncond = Toy(xt, t, torch.full_like(labels, 10));
        Assert.True(guided.allclose(uncond + 4 * (Toy(xt, t, labels) - uncond), atol: 1e-6));
    }

    [Fact]
    public void The_ema_update_is_decay_times_the_average_plus_the_rest_times_the_weights()
    {
        using var scope = torch.NewDisposeScope();
        using var model = nn.Linear(3, 2);
        using var average = nn.Linear(3, 2);
        var ema = new Ema(model, average, decay: 0.9);
        ema.Reset();
        Assert.True(average.weight!.allclose(model.weight!, rtol: 0, atol: 0));
        var before = average.weight!.clone();
        using (torch.no_grad()) model.weight!.add_(1.0);
        ema.Update();
        Assert.True(average.weight!.allclose(0.9 * before + 0.1 * model.weight!, atol: 1e-6));
        Assert.Throws<LearngeneException>(() => new Ema(model, average, decay: 1.0));

        // Warmed up, the decay after the n-th step is min(decay, (1 + n)/(10 + n)).
        Assert.Equal(2.0 / 11, ema.WarmedUp(1), 12);
        Assert.Equal(0.9, ema.WarmedUp(1000), 12);
        var now = average.weight!.clone();
        using (torch.no_grad()) model.weight!.add_(1.0);
        ema.Update(updates: 1);
        Assert.True(average.weight!.allclose(2.0 / 11 * now + 9.0 / 11 * model.weight!, atol: 1e-6));
    }

    [Fact]
    public void The_frechet_distance_of_a_set_with_itself_is_zero_and_a_shift_adds_its_squared_length()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn(500, 6, dtype: float64) * torch.tensor(new double[] { 1, 2, 0.5, 1, 3, 1 });
        Assert.Equal(0, FrechetDistance.Between(a, a), 6);
        var shift = torch.tensor(new double[] { 1, 0, 2, 0, 0, 0 });
        Assert.Equal(5, FrechetDistance.Between(a, a + shift), 6);
        Assert.True(FrechetDistance.Between(a, a * 2) > FrechetDistance.Between(a, a * 1.2));
    }
}

/// <summary>Diffusion training through the one training loop.</summary>
public class DiffusionObjectiveTests
{
    static Learngene.Data.DataSplits Digits() => new(TestData.Mnist.Train.Subset(1024, 0), TestData.Mnist.Test.Subset(256, 0));
    static readonly DitConfig Tiny = new() { Width = 64, Depth = 2, Heads = 2, PatchSize = 4 };

    [Fact]
    public void A_fresh_dit_scores_the_targets_variance_and_training_on_digits_lowers_the_test_loss()
    {
        torch.manual_seed(0);
        var splits = Digits();
        var norm = Learngene.Data.Normalization.Of(splits.Train);
        using var dit = new DiffusionTransformer(Tiny);
        using var objective = new Learngene.Training.Objectives.DiffusionObjective(dit, new NoiseSchedule(), Prediction.Velocity, norm, emaDecay: 0.99);
        double before = objective.Evaluate(dit, splits.Test, norm, 128, torch.CPU)["loss"];
        Assert.InRange(before, 0.9, 1.1); // zero output against a unit-variance v-target
        var options = new TrainOptions { Epochs = 2, BatchSize = 64, LearningRate = 1e-3, WeightDecay = 0, Augment = false, LabelSmoothing = 0 };
        var history = new Trainer(options).Fit(dit, objective, splits, norm);
        Assert.True(history[^1].Test["loss"] < 0.8 * before, $"test loss {history[^1].Test["loss"]:F3} after training, {before:F3} before");
        Assert.True(history[^1].Test["ema_loss"] < before);
        splits.Train.Dispose();
        splits.Test.Dispose();
    }

    [Fact]
    public void The_checkpoint_holds_the_weight_average_and_a_resumed_run_trains_exactly_as_an_uninterrupted_one()
    {
        var splits = Digits();
        var norm = Learngene.Data.Normalization.Of(splits.Train);
        var options = new TrainOptions { Epochs = 2, BatchSize = 128, LearningRate = 1e-3, WeightDecay = 0, Augment = false, LabelSmoothing = 0 };
        (List<EpochMetrics> History, float[] Average) Train(string dir, bool interrupt)
        {
            torch.manual_seed(3);
            using var dit = new DiffusionTransformer(Tiny);
            using var objective = new Learngene.Training.Objectives.DiffusionObjective(dit, new NoiseSchedule(), Prediction.Velocity, norm, seed: 5, emaDecay: 0.9);
            var trainer = new Trainer(options) { RunDir = dir, Observer = interrupt ? new StopAfterOne() : null };
            List<EpochMetrics> history = [];
            if (!interrupt) history = trainer.Fit(dit, objective, splits, norm);
            else
            {
                Assert.Throws<OperationCanceledException>(() => trainer.Fit(dit, objective, splits, norm)); // stopped after epoch 1's checkpoint
                torch.manual_seed(99); // the resumed process starts from other weights and another global RNG state
                using var again = new DiffusionTransformer(Tiny);
                using var resumed = new Learngene.Training.Objectives.DiffusionObjective(again, new NoiseSchedule(), Prediction.Velocity, norm, seed: 5, emaDecay: 0.9);
                history = new Trainer(options) { RunDir = dir }.Fit(again, resumed, splits, norm, Path.Combine(dir, Trainer.CheckpointName));
                return (history, resumed.Average.state_dict()["blocks.0.attn.qkv.weight"].data<float>().ToArray());
            }
            return (history, objective.Average.state_dict()["blocks.0.attn.qkv.weight"].data<float>().ToArray());
        }
        var whole = Train(TestData.TempDir(), interrupt: false);
        string dir = TestData.TempDir();
        var parts = Train(dir, interrupt: true);
        Assert.Equal(whole.History.Select(h => h.Train["loss"]), parts.History.Select(h => h.Train["loss"]));
        Assert.Equal(whole.Average, parts.Average);
        var (tensors, _) = Learngene.IO.SafeTensors.Load(Path.Combine(dir, Trainer.CheckpointName));
        Assert.Contains("objective/average.blocks.0.attn.qkv.weight", tensors.Keys);
        Assert.DoesNotContain(tensors.Keys, k => k.StartsWith("optim/") && k.Contains("average"));
        foreach (var t in tensors.Values) t.Dispose();
        splits.Train.Dispose();
        splits.Test.Dispose();
    }

    sealed class StopAfterOne : ITrainingObserver
    {
        public void EpochDone(EpochMetrics m) => throw new OperationCanceledException();
    }
}
