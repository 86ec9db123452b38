/** What the live region says: screen readers announce each new text. */
export class Announcer {
  announcement = $state("");
  /** Bumped on every announcement so that the same words are announced again. */
  announcementId = $state(0);

  announce(text: string): void {
    this.announcement = text;
    this.announcementId += 1;
  }
}
