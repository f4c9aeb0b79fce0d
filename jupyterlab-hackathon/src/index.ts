// The Hackathon panel, and Check and Submit on the open notebook: all through this package's server extension,
// which holds the person's token and talks to the platform; the browser never sees the token.
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  showDialog,
  ToolbarButton
} from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

const POLL_MS = 1000;

const hackathonIcon = new LabIcon({
  name: 'hackathon-jupyter:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" ' +
    'd="M3 3h18v4H3zm0 6h8v12H3zm10 0h8v5h-8zm0 7h8v5h-8z"/></svg>'
});

interface Submission {
  uid: string;
  kind: string;
  status: string;
  is_final: boolean;
  description: string;
  score: number | null;
  failed_cell: number | null;
  url: string;
}

interface LastSubmission {
  uid: string;
  kind: string;
  status: string;
  score: number | null;
  url: string;
}

interface Exercise {
  exercise: string;
  title: string;
  metric: string;
  is_open: boolean;
  opens_at: string;
  closes_at: string;
  deadline?: string;
  per_day: number;
  remaining_today: number;
  best_score: number | null;
  last_submission: LastSubmission | null;
  notebook: string | null;
}

interface Announcement {
  id: number;
  event: string;
  event_title: string;
  title: string;
  body: string;
  sent_at: string;
}

interface EventEntry {
  slug: string;
  title: string;
  registration: string;
  exercises: Exercise[];
}

interface Config {
  configured: boolean;
  url: string;
  from_environment: boolean;
}

class RequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

/** Call the server extension; a refusal raises RequestError with the sentence to show. */
async function api<T>(endpoint: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'hackathon', 'api', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new RequestError(
      `The Jupyter server cannot be reached (${error}). Reload the page.`,
      0
    );
  }
  const text = await response.text();
  let body: any = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { message: text };
  }
  if (!response.ok) {
    throw new RequestError(
      body.message || `The Jupyter server answered HTTP ${response.status}.`,
      response.status
    );
  }
  return body as T;
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function button(
  label: string,
  onClick: () => void,
  attributes: Record<string, string> = {}
): HTMLButtonElement {
  const node = element(
    'button',
    { type: 'button', class: 'jp-Button jp-mod-styled jp-mod-reject', ...attributes },
    label
  );
  node.addEventListener('click', onClick);
  return node;
}

function goToCell(panel: NotebookPanel, index: number): void {
  const notebook = panel.content;
  if (index < 0 || index >= notebook.widgets.length) {
    return;
  }
  notebook.activeCellIndex = index;
  void notebook.scrollToCell(notebook.widgets[index]);
}

/** Where a notebook's latest check or submission stands, in its toolbar: redrawn in place as it changes. */
class SubmissionStatus extends Widget {
  constructor(private readonly panel: NotebookPanel) {
    super();
    this.addClass('jp-hackathon-toolbar-status');
    this.node.setAttribute('role', 'status');
    this.node.setAttribute('aria-live', 'polite');
  }

  say(text: string, error = false): void {
    this.node.classList.toggle('jp-mod-error', error);
    this.node.replaceChildren(element('span', { class: 'jp-hackathon-status-text', title: text }, text));
  }

  showSubmission(submission: Submission): void {
    const failed = ['failed', 'invalid'].includes(submission.status);
    this.say(submission.description, failed);
    if (failed && submission.failed_cell !== null) {
      const cell = submission.failed_cell;
      this.node.append(
        button(`Go to cell ${cell}`, () => goToCell(this.panel, cell), {
          class: 'jp-Button jp-mod-styled jp-mod-warn jp-hackathon-goto'
        })
      );
    }
    if (submission.is_final && submission.url) {
      this.node.append(
        element(
          'a',
          { href: submission.url, target: '_blank', rel: 'noopener', class: 'jp-hackathon-feedback' },
          'Full feedback'
        )
      );
    }
  }
}

/** The left-bar panel: the person's events and exercises, Fetch, and the token form when none is configured. */
class HackathonPanel extends Widget {
  private readonly message = element('div', {
    class: 'jp-hackathon-message',
    role: 'status',
    'aria-live': 'polite'
  });
  private readonly news = element('section', {
    class: 'jp-hackathon-announcements',
    'aria-label': 'Announcements'
  });
  private readonly body = element('div', { class: 'jp-hackathon-body' });

  constructor(private readonly app: JupyterFrontEnd) {
    super();
    this.id = 'hackathon-panel';
    this.addClass('jp-hackathon-panel');
    this.title.icon = hackathonIcon;
    this.title.caption = 'Hackathon';
    this.node.append(
      element('h2', {}, 'Hackathon'),
      button('Refresh', () => void this.refresh(), { 'aria-label': 'Refresh the exercises' }),
      this.message,
      this.news,
      this.body
    );
  }

  say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle('jp-mod-error', error);
  }

  async refresh(): Promise<void> {
    try {
      const config = await api<Config>('config');
      if (!config.configured) {
        this.showTokenForm(config.url);
        return;
      }
      const { events } = await api<{ events: EventEntry[] }>('exercises');
      this.showEvents(events);
      await this.showAnnouncements();
    } catch (error) {
      this.say((error as Error).message, true);
    }
  }

  /** The unread announcements of the person's events, each until marked read (the site's banner does the same). */
  private async showAnnouncements(): Promise<void> {
    let announcements: Announcement[] = [];
    try {
      ({ announcements } = await api<{ announcements: Announcement[] }>('announcements'));
    } catch {
      return; // an older site without announcements: the panel works without them
    }
    this.news.replaceChildren(
      ...announcements.map(item => {
        const card = element(
          'article',
          { class: 'jp-hackathon-announcement', 'data-announcement': String(item.id) },
          element('strong', {}, item.title),
          element('small', {}, ` — ${item.event_title}, ${new Date(item.sent_at).toLocaleString()}`),
          // The Markdown source as text: readable as it is, and nothing in it can run.
          element('p', { class: 'jp-hackathon-announcement-body' }, item.body)
        );
        card.append(
          button('Mark as read', () => void this.markRead(item.id), {
            class: 'jp-Button jp-mod-styled jp-hackathon-read',
            'aria-label': `Mark “${item.title}” as read`
          })
        );
        return card;
      })
    );
  }

  private async markRead(id: number): Promise<void> {
    try {
      await api<{ ids: number[] }>('announcements', { method: 'POST', body: JSON.stringify({ ids: [id] }) });
      await this.showAnnouncements();
    } catch (error) {
      this.say((error as Error).message, true);
    }
  }

  private showTokenForm(url: string): void {
    const site = element('input', {
      id: 'hackathon-site',
      type: 'url',
      placeholder: 'https://hackathon.example.org',
      value: url
    });
    const token = element('input', { id: 'hackathon-token', type: 'password', autocomplete: 'off' });
    const form = element(
      'form',
      { class: 'jp-hackathon-token-form' },
      element(
        'p',
        {},
        'Paste your API token once: create it on the site\'s API tokens page. It is kept in your home folder, ' +
          'readable by you alone, never in a notebook.'
      ),
      element('label', { for: 'hackathon-site' }, 'Site address'),
      site,
      element('label', { for: 'hackathon-token' }, 'API token'),
      token,
      element('button', { type: 'submit', class: 'jp-Button jp-mod-styled jp-mod-accept' }, 'Save the token')
    );
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.saveToken(site.value, token.value);
    });
    this.body.replaceChildren(form);
  }

  private async saveToken(url: string, token: string): Promise<void> {
    try {
      await api<Config>('config', { method: 'POST', body: JSON.stringify({ url, token }) });
      this.say('Token saved.');
      await this.refresh();
    } catch (error) {
      this.say((error as Error).message, true);
    }
  }

  private showEvents(events: EventEntry[]): void {
    if (events.length === 0) {
      this.body.replaceChildren(
        element('p', {}, 'You are registered for no event yet. Register on the site, then press Refresh.')
      );
      return;
    }
    this.body.replaceChildren(
      ...events.map(event => {
        const section = element('section', { 'data-event': event.slug }, element('h3', {}, event.title));
        if (event.registration !== 'confirmed') {
          section.append(
            element('p', {}, `Your registration is ${event.registration}: the exercises appear once it is confirmed.`)
          );
        } else if (event.exercises.length === 0) {
          section.append(element('p', {}, 'No exercises yet.'));
        }
        section.append(...event.exercises.map(exercise => this.exerciseCard(event, exercise)));
        return section;
      })
    );
  }

  private exerciseCard(event: EventEntry, exercise: Exercise): HTMLElement {
    const last = exercise.last_submission;
    const lastText = last
      ? `${last.status}${last.kind === 'check' ? ' (check)' : ''}${last.score !== null ? ` ${last.score.toFixed(4)}` : ''}`
      : 'none yet';
    const row = (term: string, value: string, name: string) => [
      element('dt', {}, term),
      element('dd', { 'data-field': name }, value)
    ];
    const card = element(
      'article',
      { class: 'jp-hackathon-exercise', 'data-exercise': exercise.exercise },
      element('strong', {}, exercise.title),
      element(
        'dl',
        {},
        ...row('Open', exercise.is_open ? 'yes' : 'no', 'open'),
        ...row('Deadline', exercise.deadline || new Date(exercise.closes_at).toLocaleString(), 'deadline'),
        ...row('Left today', `${exercise.remaining_today} of ${exercise.per_day}`, 'remaining'),
        ...row(
          'Best score',
          exercise.best_score !== null ? `${exercise.metric} ${exercise.best_score.toFixed(4)}` : 'none yet',
          'best'
        ),
        ...row('Last', lastText, 'last')
      ),
      button(exercise.notebook ? 'Fetch again' : 'Fetch', () => void this.fetch(event.slug, exercise.exercise), {
        class: 'jp-Button jp-mod-styled jp-mod-accept jp-hackathon-fetch',
        'aria-label': `Fetch ${exercise.title}`
      })
    );
    if (exercise.notebook) {
      const path = exercise.notebook;
      card.append(button('Open', () => void this.open(path), { class: 'jp-Button jp-mod-styled jp-hackathon-open' }));
    }
    if (last) {
      card.append(
        element('a', { href: last.url, target: '_blank', rel: 'noopener' }, 'Last feedback')
      );
    }
    return card;
  }

  private async open(path: string): Promise<void> {
    await this.app.commands.execute('docmanager:open', { path });
  }

  private async fetch(event: string, exercise: string): Promise<void> {
    this.say(`Fetching ${exercise}…`);
    try {
      const result = await api<{ notebook: string | null; message: string }>('fetch', {
        method: 'POST',
        body: JSON.stringify({ event, exercise })
      });
      this.say(result.message);
      if (result.notebook) {
        await this.open(result.notebook);
      }
      await this.refresh();
    } catch (error) {
      this.say((error as Error).message, true);
    }
  }

  /** Mirror a notebook's latest run, with a jump to the failing cell. */
  showSubmission(panel: NotebookPanel, submission: Submission): void {
    const failed = ['failed', 'invalid'].includes(submission.status);
    this.say(`${panel.context.path}: ${submission.description}`, failed);
    if (failed && submission.failed_cell !== null) {
      const cell = submission.failed_cell;
      this.message.append(' ', button(`Go to cell ${cell}`, () => goToCell(panel, cell)));
    }
  }
}

const statuses = new WeakMap<NotebookPanel, SubmissionStatus>();

async function send(panel: NotebookPanel, kind: 'check' | 'graded', hackathon: HackathonPanel): Promise<void> {
  const status = statuses.get(panel);
  const show = (submission: Submission) => {
    status?.showSubmission(submission);
    hackathon.showSubmission(panel, submission);
  };
  // The author's consent to show the notebook, with their name, to the event's people after the deadline: asked
  // on every graded submission, never ticked for them (the site's default is no consent too).
  let shareNotebook = false;
  if (kind === 'graded') {
    const answer = await showDialog({
      title: 'Submit for grading?',
      body: 'The notebook is saved, then scored on the hidden set. It uses one of today\'s graded submissions; ' +
        'a Check on the public sample is free.',
      checkbox: {
        label: 'share my notebook with the event after the deadline',
        caption: 'The organizers may then show it, with your name, to the event\'s participants. ' +
          'You can stop sharing it on its page on the site at any time.',
        checked: false,
        className: 'jp-hackathon-share'
      },
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Submit' })]
    });
    if (!answer.button.accept) {
      return;
    }
    shareNotebook = answer.isChecked === true;
  }
  try {
    status?.say('Saving…');
    await panel.context.save();
    status?.say(kind === 'check' ? 'Sending for a check…' : 'Submitting…');
    let submission = await api<Submission>('submissions', {
      method: 'POST',
      body: JSON.stringify({ path: panel.context.path, kind, share_notebook: shareNotebook })
    });
    show(submission);
    while (!submission.is_final) {
      await sleep(POLL_MS);
      submission = await api<Submission>(`submissions/${submission.uid}`);
      show(submission);
    }
    void hackathon.refresh();
  } catch (error) {
    const text = (error as Error).message;
    status?.say(text, true);
    hackathon.say(text, true);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'hackathon-jupyter:plugin',
  description: 'The Hackathon panel, and Check and Submit on the open notebook.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const hackathon = new HackathonPanel(app);
    app.shell.add(hackathon, 'left', { rank: 600 });
    restorer?.add(hackathon, 'hackathon-panel');
    void hackathon.refresh();

    const current = () => tracker.currentWidget;
    app.commands.addCommand('hackathon:check', {
      label: 'Hackathon: Check this notebook on the public sample',
      caption: 'Save, then run the notebook on the public sample (free)',
      isEnabled: () => current() !== null,
      execute: () => {
        const panel = current();
        return panel ? send(panel, 'check', hackathon) : undefined;
      }
    });
    app.commands.addCommand('hackathon:submit', {
      label: 'Hackathon: Submit this notebook for grading',
      caption: 'Save, then score the notebook on the hidden set (uses one of today\'s submissions)',
      isEnabled: () => current() !== null,
      execute: () => {
        const panel = current();
        return panel ? send(panel, 'graded', hackathon) : undefined;
      }
    });
    app.commands.addCommand('hackathon:show-panel', {
      label: 'Hackathon: Show the panel',
      execute: () => {
        app.shell.activateById(hackathon.id);
        return hackathon.refresh();
      }
    });
    for (const command of ['hackathon:check', 'hackathon:submit', 'hackathon:show-panel']) {
      palette?.addItem({ command, category: 'Hackathon' });
    }

    tracker.widgetAdded.connect((_, panel) => {
      const status = new SubmissionStatus(panel);
      statuses.set(panel, status);
      // After the cell type, before the spacer: items past the toolbar's width fold into its "..." menu, where a
      // status would be hidden. Where the toolbar has no cell type (customized), they go at its end.
      const items: [string, Widget][] = [
        [
          'hackathon-check',
          new ToolbarButton({
            label: 'Check',
            className: 'jp-hackathon-check',
            tooltip: 'Hackathon: save, then run on the public sample (free)',
            onClick: () => void send(panel, 'check', hackathon)
          })
        ],
        [
          'hackathon-submit',
          new ToolbarButton({
            label: 'Submit',
            className: 'jp-hackathon-submit',
            tooltip: 'Hackathon: save, then score on the hidden set (uses one of today\'s submissions)',
            onClick: () => void send(panel, 'graded', hackathon)
          })
        ],
        ['hackathon-status', status]
      ];
      let after = 'cellType';
      for (const [name, widget] of items) {
        if (!panel.toolbar.insertAfter(after, name, widget)) {
          panel.toolbar.addItem(name, widget);
        }
        after = name;
      }
    });
  }
};

export default plugin;
