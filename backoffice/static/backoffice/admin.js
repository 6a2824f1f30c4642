"use strict";
// The language switch submits itself when a language is picked. A script file of ours, not an inline
// handler: the Content Security Policy refuses inline scripts. Without scripts, its button submits.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("language-switch");
  const select = form && form.querySelector("select");
  if (select) {
    select.addEventListener("change", () => form.submit());
  }
});
