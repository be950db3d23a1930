using RankService.Ranking.Training;

namespace RankService.Api.Tests.Jobs;

public sealed class JobLifecycleTransitionTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly DateTimeOffset Later = Created.AddMinutes(7);
    private const string Best = "checkpoints/best.json";

    /// <summary>The allowed (from, transition, to) triples, written here independently of the table under test.</summary>
    private static readonly (JobState From, JobTransition Transition, JobState To)[] Allowed =
    [
        (JobState.Queued, JobTransition.Enqueue, JobState.Queued),
        (JobState.Queued, JobTransition.Start, JobState.Running),
        (JobState.Running, JobTransition.Start, JobState.Running),
        (JobState.Running, JobTransition.Progress, JobState.Running),
        (JobState.Running, JobTransition.Succeed, JobState.Succeeded),
        (JobState.Queued, JobTransition.Fail, JobState.Failed),
        (JobState.Running, JobTransition.Fail, JobState.Failed),
        (JobState.Running, JobTransition.RequestCancel, JobState.Running),
        (JobState.Queued, JobTransition.Cancel, JobState.Cancelled),
        (JobState.Running, JobTransition.Cancel, JobState.Cancelled),
        (JobState.Running, JobTransition.Requeue, JobState.Queued),
        (JobState.Queued, JobTransition.Interrupt, JobState.Failed),
        (JobState.Running, JobTransition.Interrupt, JobState.Failed),
        (JobState.Queued, JobTransition.Conclude, JobState.Succeeded),
        (JobState.Running, JobTransition.Conclude, JobState.Succeeded),
    ];

    public static TheoryData<JobState, JobTransition> AllowedPairs()
    {
        var data = new TheoryData<JobState, JobTransition>();
        foreach ((JobState from, JobTransition transition, _) in Allowed)
        {
            data.Add(from, transition);
        }
        return data;
    }

    public static TheoryData<JobState, JobTransition> ForbiddenPairs()
    {
        var data = new TheoryData<JobState, JobTransition>();
        foreach (JobState from in Enum.GetValues<JobState>())
        {
            foreach (JobTransition transition in Enum.GetValues<JobTransition>())
            {
                if (!Allowed.Any(a => a.From == from && a.Transition == transition))
                {
                    data.Add(from, transition);
                }
            }
        }
        return data;
    }

    /// <summary>A lifecycle on a clock at <see cref="Created"/>, a record brought to <paramref name="from"/>, then the clock moved to <see cref="Later"/>.</summary>
    private static (JobLifecycle Lifecycle, JobRecord Record) InStateThenLater(JobState from)
    {
        var clock = new ManualClock(Created);
        var lifecycle = new JobLifecycle(clock);
        JobRecord record = InState(lifecycle, from);
        clock.Now = Later;
        return (lifecycle, record);
    }

    [Theory]
    [MemberData(nameof(AllowedPairs))]
    public void An_allowed_transition_leads_to_its_state_and_stamps_the_clock_time(JobState from, JobTransition transition)
    {
        (JobLifecycle lifecycle, JobRecord record) = InStateThenLater(from);

        JobRecord next = Apply(lifecycle, record, transition);

        JobState expected = Allowed.Single(a => a.From == from && a.Transition == transition).To;
        Assert.Equal(expected, next.State);
        Assert.Equal(Created, next.CreatedAt);
        // Started when it first ran; a run handed out again keeps that time.
        Assert.Equal(from == JobState.Queued && transition == JobTransition.Start ? Later : record.StartedAt, next.StartedAt);
        Assert.Equal(expected.IsFinished() ? Later : null, next.FinishedAt);
    }

    [Theory]
    [MemberData(nameof(ForbiddenPairs))]
    public void A_forbidden_transition_is_refused_and_leaves_the_record_as_it_was(JobState from, JobTransition transition)
    {
        (JobLifecycle lifecycle, JobRecord record) = InStateThenLater(from);

        Assert.False(JobLifecycle.Allows(record, transition));
        Assert.Same(record, Apply(lifecycle, record, transition));
    }

    [Fact]
    public void The_table_allows_exactly_the_transitions_listed_in_this_test()
    {
        var lifecycle = new JobLifecycle(new ManualClock(Created));
        foreach (JobState from in Enum.GetValues<JobState>())
        {
            foreach (JobTransition transition in Enum.GetValues<JobTransition>())
            {
                Assert.Equal(Allowed.Any(a => a.From == from && a.Transition == transition), JobLifecycle.Allows(InState(lifecycle, from), transition));
            }
        }
    }

    [Fact]
    public void A_cancelled_job_never_becomes_succeeded_running_or_queued()
    {
        var lifecycle = new JobLifecycle(new ManualClock(Created));
        JobRecord cancelled = lifecycle.Cancel(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions()));

        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Same(cancelled, lifecycle.Succeed(cancelled, Result(), Best));
        Assert.Same(cancelled, lifecycle.Start(cancelled));
        Assert.Same(cancelled, lifecycle.Requeue(cancelled));
        Assert.Same(cancelled, lifecycle.Fail(cancelled, "late failure"));
    }

    [Fact]
    public void A_job_asked_to_stop_neither_starts_again_nor_goes_back_to_the_queue_but_can_be_cancelled()
    {
        var clock = new ManualClock(Created);
        var lifecycle = new JobLifecycle(clock);
        JobRecord asked = lifecycle.RequestCancel(lifecycle.Start(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions())));

        Assert.True(asked.CancelRequested);
        Assert.Equal(JobState.Running, asked.State);
        Assert.Same(asked, lifecycle.Start(asked));
        Assert.Same(asked, lifecycle.Requeue(asked));
        clock.Now = Later;
        JobRecord cancelled = lifecycle.Cancel(asked, result: Result(), bestCheckpoint: Best);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(Later, cancelled.FinishedAt);
        Assert.Null(cancelled.Error);
        Assert.Equal(Best, cancelled.Checkpoint);
    }

    [Fact]
    public void A_reason_given_when_a_running_job_is_asked_to_stop_becomes_the_cancelled_jobs_error()
    {
        var lifecycle = new JobLifecycle(new ManualClock(Created));
        JobRecord running = lifecycle.Start(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions()));

        JobRecord asked = lifecycle.CancelOrRequest(running, JobLifecycle.DeletedInDashboardMessage);
        JobRecord cancelled = lifecycle.Cancel(asked);

        Assert.Equal(JobState.Running, asked.State);
        Assert.Equal(JobLifecycle.DeletedInDashboardMessage, asked.CancelReason);
        Assert.Null(asked.Error);
        Assert.Equal(JobLifecycle.DeletedInDashboardMessage, cancelled.Error);
        // Asked again without a reason: nothing changes, nothing is written.
        Assert.Same(asked, lifecycle.RequestCancel(asked));
    }

    [Fact]
    public void Progress_records_the_epoch_its_time_and_the_best_checkpoint_and_a_resumed_run_counts_earlier_epochs()
    {
        var lifecycle = new JobLifecycle(new ManualClock(Created));
        JobRecord running = lifecycle.Start(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions()));

        JobRecord first = lifecycle.Progress(running, Report(3, seconds: 2, isBest: true), firstOfRun: true, earlierSeconds: 5, Best);
        JobRecord second = lifecycle.Progress(first, Report(4, seconds: 1, isBest: false), firstOfRun: false, earlierSeconds: double.NaN, "elsewhere");

        Assert.Equal((3, 7.0, 2, 3, Best), (first.Epoch, first.EpochSeconds, first.ResumedAfterEpoch, first.BestEpoch, first.Checkpoint));
        Assert.Equal((4, 8.0, 2, 3, Best), (second.Epoch, second.EpochSeconds, second.ResumedAfterEpoch, second.BestEpoch, second.Checkpoint));
    }

    [Fact]
    public void An_interrupted_job_fails_with_the_interrupted_message_and_a_requeued_one_keeps_its_progress()
    {
        var lifecycle = new JobLifecycle(new ManualClock(Created));
        JobRecord running = lifecycle.Progress(lifecycle.Start(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions())),
            Report(1, seconds: 1, isBest: true), firstOfRun: true, earlierSeconds: 0, Best);

        JobRecord interrupted = lifecycle.Interrupt(running);
        JobRecord requeued = lifecycle.Requeue(running);

        Assert.Equal((JobState.Failed, JobLifecycle.InterruptedMessage), (interrupted.State, interrupted.Error));
        Assert.Equal((JobState.Queued, 1, Best, (DateTimeOffset?)null), (requeued.State, requeued.Epoch, requeued.Checkpoint, requeued.FinishedAt));
    }

    [Fact]
    public void A_concluded_search_takes_its_best_trials_metrics_and_names_it()
    {
        var lifecycle = new JobLifecycle(new ManualClock(Created));
        JobRecord trial = lifecycle.Succeed(lifecycle.Start(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions())), Result(), Best);
        JobRecord search = lifecycle.Start(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions()) with { Trials = [trial.Id] });

        JobRecord concluded = lifecycle.Conclude(search, trial);

        Assert.Equal((JobState.Succeeded, trial.Id, trial.BestEpoch), (concluded.State, concluded.BestTrial, concluded.BestEpoch));
        Assert.Same(trial.BestValidation, concluded.BestValidation);
        Assert.Same(trial.Test, concluded.Test);
        Assert.Null(concluded.Checkpoint); // the search trains nothing itself: its model is the trial's
        Assert.Same(concluded, lifecycle.Conclude(concluded, trial));
    }

    private static JobRecord Apply(JobLifecycle lifecycle, JobRecord record, JobTransition transition) => transition switch
    {
        JobTransition.Enqueue => lifecycle.Enqueue(record, "42"),
        JobTransition.Start => lifecycle.Start(record),
        JobTransition.Progress => lifecycle.Progress(record, Report(1, seconds: 1, isBest: true), firstOfRun: true, earlierSeconds: 0, Best),
        JobTransition.Succeed => lifecycle.Succeed(record, Result(), Best),
        JobTransition.Fail => lifecycle.Fail(record, "No space left on device"),
        JobTransition.RequestCancel => lifecycle.RequestCancel(record),
        JobTransition.Cancel => lifecycle.Cancel(record),
        JobTransition.Requeue => lifecycle.Requeue(record),
        JobTransition.Interrupt => lifecycle.Interrupt(record),
        JobTransition.Conclude => lifecycle.Conclude(record, lifecycle.Succeed(lifecycle.Start(lifecycle.Queue(NewId(), "synthetic", new TrainingOptions())), Result(), Best)),
        _ => throw new ArgumentOutOfRangeException(nameof(transition)),
    };

    /// <summary>A record brought into <paramref name="state"/> by the lifecycle itself, at the creation time.</summary>
    private static JobRecord InState(JobLifecycle lifecycle, JobState state)
    {
        JobRecord queued = lifecycle.Queue(NewId(), "synthetic", new TrainingOptions());
        return state switch
        {
            JobState.Queued => queued,
            JobState.Running => lifecycle.Start(queued),
            JobState.Succeeded => lifecycle.Succeed(lifecycle.Start(queued), Result(), Best),
            JobState.Failed => lifecycle.Fail(queued, "boom"),
            JobState.Cancelled => lifecycle.Cancel(queued),
            _ => throw new ArgumentOutOfRangeException(nameof(state)),
        };
    }

    private static string NewId() => JobStore.NewId();

    private static EpochReport Report(int epoch, double seconds, bool isBest) =>
        new(epoch, 5, 1.5, new Dictionary<string, double>(), new Dictionary<string, double> { [Trainer.SelectionMetric] = 0.25 }, seconds, isBest);

    private static TrainingResult Result()
    {
        var validation = new Dictionary<string, double> { [Trainer.SelectionMetric] = 0.25 };
        return new TrainingResult([Report(1, 1, true)], 1, validation, validation, validation, validation, Best, Best, StoppedEarly: false, Cancelled: false);
    }

    /// <summary>A clock the test sets by hand.</summary>
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
