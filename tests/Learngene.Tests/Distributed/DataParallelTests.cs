using Learngene.Data;
using Learngene.Distributed;
using Learngene.Models;
using Learngene.Training;
using Learngene.Training.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Distributed;

/// <summary>Data-parallel training's single-process parts: N ranks' shards of a global batch are exactly the
/// batch one process sees (augmentation and diffusion draws included), and their weighted losses are its
/// loss. The 2-rank runs themselves (mpirun) are checked by bench/mpi/mpi-check, which CI runs.</summary>
public class DataParallelTests
{
    [Theory]
    [InlineData(64, 2)]
    [InlineData(65, 3)]
    [InlineData(2, 3)] // a last batch smaller than the ranks: one rank gets none
    public void The_ranks_shards_cover_a_batch_once_in_order(long batch, int ranks)
    {
        var shards = Enumerable.Range(0, ranks).Select(r => BatchLoader.Shard(batch, r, ranks)).ToList();
        Assert.Equal(0, shards[0].Lo);
        Assert.Equal(batch, shards[^1].Hi);
        for (int r = 1; r < ranks; r++) Assert.Equal(shards[r - 1].Hi, shards[r].Lo);
        Assert.True(shards.Max(s => s.Hi - s.Lo) - shards.Min(s => s.Hi - s.Lo) <= 1);
    }

    [Fact]
    public void Three_ranks_shards_of_each_augmented_batch_are_the_batch_one_process_sees()
    {
        using var scope = torch.NewDisposeScope();
        var data = TestData.Synthetic(100, seed: 3);
        var norm = Normalization.Of(data);
        var whole = new BatchLoader(data, norm, 32, shuffle: true, augment: true, seed: 7, epoch: 2).Batches().ToList();
        var shards = Enumerable.Range(0, 3).Select(r => new BatchLoader(data, norm, 32, shuffle: true, augment: true, seed: 7, epoch: 2, shard: (r, 3)).Batches().ToList()).ToList();
        Assert.All(shards, s => Assert.Equal(whole.Count, s.Count));
        for (int b = 0; b < whole.Count; b++)
        {
            Assert.True(whole[b].Images.equal(torch.cat(shards.Select(s => s[b].Images).ToList())).all().item<bool>(), $"images of batch {b}");
            Assert.True(whole[b].Labels.equal(torch.cat(shards.Select(s => s[b].Labels).ToList())).all().item<bool>(), $"labels of batch {b}");
        }
    }

    [Fact]
    public void Two_ranks_diffusion_losses_weighted_by_their_shares_are_one_process_loss()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var config = new DitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, ImageSize = 28, Channels = 1, Classes = 4 };
        using var model = new DiffusionTransformer(config);
        using (torch.no_grad()) foreach (var p in model.parameters()) p.add_(torch.randn_like(p) * 0.05); // not the identity of adaLN-zero
        var data = TestData.Synthetic(64, seed: 1);
        var split = new DataSplits(data, data);
        var norm = Normalization.Of(data);
        IObjective Objective() => ObjectiveRegistry.Registry.Find("diffusion").Create(new ObjectiveContext(new TrainOptions(), model, norm, split, null));
        var (x, y) = new BatchLoader(data, norm, 30, shuffle: true, augment: false, seed: 1, epoch: 1).Batches().First();
        using var one = Objective();
        var whole = one.Step(model, x, y);
        double sum = 0;
        foreach (var (lo, hi) in new[] { BatchLoader.Shard(30, 0, 2), BatchLoader.Shard(30, 1, 2) })
        {
            using var rank = Objective(); // each rank's objective is at the same step
            var part = rank.Step(model, x.narrow(0, lo, hi - lo), y.narrow(0, lo, hi - lo), new BatchShard(30, lo));
            sum += part.Sums["loss"];
        }
        Assert.Equal(whole.Sums["loss"], sum, whole.Sums["loss"] * 1e-5);
    }

    [Fact]
    public void In_one_process_data_parallelism_changes_nothing()
    {
        using var scope = torch.NewDisposeScope();
        var parallel = new DataParallel(World.Single);
        var p = new TorchSharp.Modules.Parameter(torch.ones(3));
        p.grad = torch.full(3, 2f);
        parallel.AverageGradients([p], 0.5);
        Assert.Equal([2f, 2f, 2f], p.grad!.data<float>().ToArray());
        var (sums, count, stop) = parallel.Combine(new Dictionary<string, double> { ["loss"] = 3 }, 5, stop: true);
        Assert.Equal(3, sums["loss"]);
        Assert.Equal(5, count);
        Assert.True(stop);
        Assert.Equal(0.25, parallel.Share(new Dictionary<string, double> { ["accuracy"] = 0.25 })["accuracy"]);
        Assert.False(World.Single.IsDistributed);
    }

    [Fact]
    public void Started_without_a_launcher_the_job_is_this_process_alone_and_no_MPI_library_is_loaded()
    {
        Assert.Equal(1, World.LaunchedRanks()); // the test runner is not started by mpirun or srun
        Assert.Same(World.Single, World.Current);
        Assert.False(World.Joined);
        Assert.DoesNotContain(System.Diagnostics.Process.GetCurrentProcess().Modules.Cast<System.Diagnostics.ProcessModule>(), m => m.ModuleName.StartsWith("libmpi"));
    }
}
