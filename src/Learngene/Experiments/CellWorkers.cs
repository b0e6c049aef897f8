using System.Text;
using Learngene.Distributed;

namespace Learngene.Experiments;

/// <summary><c>--workers mpi</c>: an experiment's independent cells spread over the ranks of an MPI job. Every
/// worker (ranks 1…N−1) runs the experiment; before computing a cell it asks rank 0 for it, and rank 0 gives
/// each cell to the first that asks. A worker trains the cells it was given alone (one process each, in its
/// own cell folder, which must be on a file system all ranks share); a cell another worker has is skipped
/// (<see cref="CellResult.Pending"/>) until something needs its result, which then waits for it. When every
/// worker is through, rank 0 runs the experiment itself: every cell is then on disk, so it only gathers them
/// into results.json and the report, as a rerun of a finished experiment does. A rank that dies takes the job
/// down (MPI's rule); its half-trained cell resumes from its checkpoint on the rerun and nothing done is lost.</summary>
public sealed class CellWorkers
{
    enum Tag { Claim = 1, Done = 2, Wait = 3, Finished = 4, Reply = 5 }
    public enum Answer { Granted, Busy, Done }

    readonly World world;

    public CellWorkers(World world)
    {
        if (!world.IsDistributed)
            throw new LearngeneException("--workers mpi spreads cells over the ranks of an MPI job: start it with mpirun -np N (N ≥ 2: rank 0 hands out the cells, the others train)", setting: "workers");
        this.world = world;
    }

    /// <summary>The experiment's workers when the command was given <c>--workers mpi</c>; null otherwise.</summary>
    public static CellWorkers? Current { get; set; }

    public bool IsCoordinator => world.IsRoot;
    public int Rank => world.Rank;

    /// <summary>A worker asks for a cell.</summary>
    public Answer Claim(string name)
    {
        Send(Tag.Claim, name);
        return Enum.Parse<Answer>(ReplyText());
    }

    /// <summary>A worker has written the cell's record.</summary>
    public void Report(string name) => Send(Tag.Done, name);

    /// <summary>A worker waits until another's cell is done.</summary>
    public void Await(string name)
    {
        Send(Tag.Wait, name);
        ReplyText();
    }

    /// <summary>A worker has been through the whole experiment.</summary>
    public void Finish() => Send(Tag.Finished, "");

    void Send(Tag tag, string text) => world.Send(0, (int)tag, Encoding.UTF8.GetBytes(text));

    string ReplyText() => Encoding.UTF8.GetString(world.Receive(0, (int)Tag.Reply).Data);

    /// <summary>Rank 0: hands out cells until every worker has finished.</summary>
    public void Serve(Action<string>? log = null)
    {
        var owner = new Dictionary<string, int>();
        var done = new HashSet<string>();
        var waiting = new Dictionary<string, List<int>>();
        int finished = 0;
        void Reply(int to, string text) => world.Send(to, (int)Tag.Reply, Encoding.UTF8.GetBytes(text));
        while (finished < world.Size - 1)
        {
            var (from, tag, data) = world.Receive();
            string name = Encoding.UTF8.GetString(data);
            switch ((Tag)tag)
            {
                case Tag.Claim:
                    if (done.Contains(name)) Reply(from, nameof(Answer.Done));
                    else if (owner.TryGetValue(name, out int other) && other != from) Reply(from, nameof(Answer.Busy));
                    else
                    {
                        owner[name] = from;
                        Reply(from, nameof(Answer.Granted));
                        log?.Invoke($"[{name}] given to rank {from}");
                    }
                    break;
                case Tag.Done:
                    done.Add(name);
                    foreach (int r in waiting.GetValueOrDefault(name) ?? []) Reply(r, nameof(Answer.Done));
                    waiting.Remove(name);
                    break;
                case Tag.Wait:
                    if (done.Contains(name) || !owner.ContainsKey(name)) Reply(from, nameof(Answer.Done));
                    else (waiting.TryGetValue(name, out var list) ? list : waiting[name] = []).Add(from);
                    break;
                case Tag.Finished:
                    finished++;
                    break;
            }
        }
        log?.Invoke($"every worker is through: {done.Count} cells trained by {world.Size - 1} workers");
    }
}

/// <summary>Thrown where a worker's pass through an experiment ends: the gathering of results that follows
/// is rank 0's, once every cell is done.</summary>
public sealed class WorkerPassComplete() : Exception("a worker's pass through the experiment is complete");
