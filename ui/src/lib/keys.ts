/** A keydown handler for a form or panel: Escape closes it, and goes no further. */
export function closeOnEscape(close: () => void): (event: KeyboardEvent) => void {
  return (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  };
}
