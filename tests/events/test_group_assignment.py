"""The optimizer forms groups per use case by preference, balances sizes, and gives tutors by ratio and expertise."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hackathon import errors, selectors, services
from hackathon.assignment import Participant, Tutor, UseCase, assign_tutors, plan_groups, summarize
from hackathon.models import Group, Preference, Registration
from tests.builders.events import make_event, open_exercise
from tests.builders.people import make_organizer, make_participant, make_tutor

CNN = UseCase(1, "Microcalcifications", frozenset({"CNN", "Medical physics"}))
UNET = UseCase(2, "Lung segmentation", frozenset({"U-Net", "CNN", "Medical physics"}))
AE = UseCase(3, "MET anomaly", frozenset({"Autoencoder", "High energy physics"}))


def test_everyone_gets_their_first_choice_when_the_wishes_fit():
    people = [Participant(i, (1, 2, 3)) for i in range(5)] + [Participant(10 + i, (3, 1, 2)) for i in range(4)]
    groups = plan_groups(people, [CNN, UNET, AE], [], group_size=5, participants_per_tutor=5)
    report = summarize(groups, people, [CNN, UNET, AE], [], participants_per_tutor=5)
    assert report.first_choice == 9
    assert sorted((g.use_case, len(g.members)) for g in groups) == [(1, 5), (3, 4)]


def test_a_crowded_use_case_splits_into_groups_whose_sizes_differ_by_at_most_one():
    people = [Participant(i, (1, 2)) for i in range(12)]
    groups = plan_groups(people, [CNN, UNET], [], group_size=5, participants_per_tutor=5)
    sizes = sorted(len(g.members) for g in groups)
    assert max(sizes) <= 5 and max(sizes) - min(sizes) <= 1
    assert sum(sizes) == 12
    assert sorted(m for g in groups for m in g.members) == list(range(12))


def test_nobody_is_left_alone_in_a_use_case_only_they_chose():
    people = [Participant(i, (1, 3)) for i in range(6)] + [Participant(99, (3, 1))]
    groups = plan_groups(people, [CNN, AE], [], group_size=7, participants_per_tutor=5)
    assert all(len(g.members) >= 2 for g in groups)
    assert [g.use_case for g in groups if 99 in g.members] == [1]


def test_tutors_go_where_they_know_the_use_case_even_where_a_greedy_pass_would_not():
    # A greedy pass gives the first group the first tutor who knows CNN (the U-Net expert) and leaves the
    # U-Net group to a tutor who knows only CNN; the optimum swaps them.
    groups = [(1, 5), (2, 5)]
    tutors = [
        Tutor(100, frozenset({"CNN", "U-Net", "Medical physics"})),
        Tutor(101, frozenset({"CNN", "Medical physics"})),
    ]
    chosen = assign_tutors(groups, tutors, {1: CNN, 2: UNET}, participants_per_tutor=5)
    assert chosen == [(101,), (100,)]


def test_every_group_gets_a_tutor_before_any_group_gets_a_second():
    tutors = [Tutor(100 + i, frozenset({"CNN", "Medical physics"})) for i in range(3)]
    chosen = assign_tutors([(1, 4), (3, 4)], tutors, {1: CNN, 3: AE}, participants_per_tutor=2)
    assert sorted(len(c) for c in chosen) == [1, 2]
    assert all(chosen)


def test_the_report_counts_ratio_shortfalls_and_unmatched_expertise():
    people = [Participant(i, (1,)) for i in range(6)]
    groups = plan_groups(people, [CNN], [Tutor(100, frozenset({"CNN"}))], group_size=6, participants_per_tutor=5)
    report = summarize(groups, people, [CNN], [Tutor(100, frozenset({"CNN"}))], participants_per_tutor=5)
    (group,) = report.groups
    assert (group.size, group.tutors, group.tutors_needed, group.meets_ratio) == (6, 1, 2, False)
    assert group.unmatched_labels == {"Medical physics"}
    assert report.groups_below_ratio == (group,)


def test_a_tutor_is_never_counted_twice_in_one_group():
    tutor = Tutor(100, frozenset({"CNN"}), max_groups=3)
    chosen = assign_tutors([(1, 10)], [tutor], {1: CNN}, participants_per_tutor=1)
    assert chosen == [(100,)]


# --- Through the database and the organizer's page --------------------------------------------------------

pytestmark = [pytest.mark.production_profile]


def event_with_people(participants: int = 10, tutors: int = 2):  # type: ignore[no-untyped-def]
    event = make_event(participants_per_tutor=5, group_size=5)
    cnn = open_exercise(event, labels={"technology": ["CNN"]})
    ae = open_exercise(event, labels={"technology": ["Autoencoder"]})
    for i in range(participants):
        person = make_participant(event)
        registration = Registration.objects.get(event=event, user=person)
        ranking = (cnn, ae) if i % 2 == 0 else (ae, cnn)
        for rank, use_case in enumerate(ranking, start=1):
            Preference.objects.create(registration=registration, event_exercise=use_case, rank=rank)
    staff = [make_tutor(event) for _ in range(tutors)]
    return event, cnn, ae, staff


@pytest.mark.django_db
def test_the_organizer_forms_the_groups_and_reads_the_report(client):
    event, cnn, ae, tutors = event_with_people()
    services.declare_tutoring(
        event=event,
        user=tutors[0],
        expertise=list(cnn.exercise.labels.all()),
        available_days=[event.starts_on],
        max_groups=1,
    )
    services.declare_tutoring(
        event=event,
        user=tutors[1],
        expertise=list(ae.exercise.labels.all()),
        available_days=[event.starts_on],
        max_groups=1,
    )
    client.force_login(make_organizer(event))
    response = client.post(reverse("hackathon:assign_groups", args=[event.slug]), follow=True)
    page = response.content.decode()
    assert "Formed 2 groups; 10 of 10 participants got their first choice" in page
    assert "meets the ratio" in page
    assert {(g.event_exercise_id, g.tutors.get().pk) for g in event.groups.all()} == {
        (cnn.pk, tutors[0].pk),
        (ae.pk, tutors[1].pk),
    }
    assert not event.registrations.filter(status="confirmed", group=None).exists()


@pytest.mark.django_db
def test_a_tutor_who_declared_no_available_day_gets_no_group():
    event, _cnn, _ae, tutors = event_with_people()
    services.declare_tutoring(event=event, user=tutors[0], expertise=[], available_days=[], max_groups=1)
    services.assign_groups(event=event)
    assert not Group.objects.filter(event=event, tutors=tutors[0]).exists()


@pytest.mark.django_db
def test_moving_a_participant_into_a_full_group_warns_that_the_ratio_breaks(client):
    event, _cnn, _ae, _tutors = event_with_people()
    services.assign_groups(event=event)
    first, second = event.groups.order_by("number")
    mover = second.members.first()
    client.force_login(make_organizer(event))
    response = client.post(
        reverse("hackathon:groups", args=[event.slug]),
        {"action": "move_participant", "registration": mover.pk, "group": first.pk},
        follow=True,
    )
    assert f"Group {first.number} now has 6 participants for 1 tutor" in response.content.decode()
    mover.refresh_from_db()
    assert mover.group_id == first.pk
    report = selectors.current_group_report(event)
    assert [g.number for g in report.groups_below_ratio] == [first.number]


@pytest.mark.django_db
def test_moving_a_tutor_away_warns_and_leaves_the_group_without_one():
    event, _cnn, _ae, tutors = event_with_people()
    services.assign_groups(event=event)
    group = Group.objects.get(event=event, tutors=tutors[0])
    warnings = services.move_tutor(event=event, tutor=tutors[0], from_group=group, to_group=None)
    assert warnings == [
        f"Group {group.number} now has 5 participants for 0 tutors: the event asks for one tutor per 5."
    ]


@pytest.mark.django_db
def test_a_group_of_another_event_cannot_be_the_target_of_a_move():
    event, _cnn, _ae, _tutors = event_with_people()
    other, *_ = event_with_people(participants=2, tutors=1)
    services.assign_groups(event=event)
    services.assign_groups(event=other)
    with pytest.raises(errors.GroupChangeRefused):
        services.move_participant(event=event, registration=event.registrations.first(), group=other.groups.first())


@pytest.mark.django_db
def test_forming_groups_with_no_use_case_open_says_what_to_do():
    event = make_event()
    make_participant(event)
    with pytest.raises(errors.GroupChangeRefused, match="Open at least one exercise"):
        services.assign_groups(event=event)


def test_with_scarce_tutors_a_few_people_take_their_second_choice_so_every_group_keeps_its_tutor():
    # 6 want CNN and 4 want the autoencoder; with groups of at most 5, one tutor each, that is 3 groups for
    # 2 tutors. Moving one person to their second choice makes 5 + 5: two groups, both with a tutor.
    people = [Participant(i, (1, 3)) for i in range(6)] + [Participant(10 + i, (3, 1)) for i in range(4)]
    tutors = [Tutor(100, frozenset({"CNN"})), Tutor(101, frozenset({"Autoencoder"}))]
    groups = plan_groups(people, [CNN, AE], tutors, group_size=5, participants_per_tutor=5)
    report = summarize(groups, people, [CNN, AE], tutors, participants_per_tutor=5)
    assert sorted(len(g.members) for g in groups) == [5, 5]
    assert report.groups_below_ratio == ()
    assert report.first_choice == 9
