// The site's own behaviour, served from the site so the Content Security Policy needs no inline script.
// A field marked data-select-on-focus selects its whole text when focused (the new API token, to copy it).
document.addEventListener("focusin", (event) => {
  const field = event.target;
  if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) {
    field.select();
  }
});
