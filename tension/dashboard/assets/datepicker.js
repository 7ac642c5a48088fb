/* Tension Index: a date typed into the date-range picker is applied when the field loses
 * focus, not only on Enter or Tab.
 *
 * dcc.DatePickerRange (dash 4.4) parses typed text only in its keydown handler (Enter,
 * arrows, Tab) and has no blur handler or prop for it: a date typed and then left by a
 * click elsewhere stayed in the field, unapplied. When focus leaves the picker (not when it
 * moves to its other field or into its calendar) we send the field the Tab keydown the
 * component already handles, so the typed text is parsed and applied (or, if it is no
 * date, reset) exactly as if Tab had been pressed.
 */
document.addEventListener("focusout", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("dash-datepicker-input")) {
        return;
    }
    const picker = input.closest(".dash-datepicker");
    if (picker && event.relatedTarget instanceof Node && picker.contains(event.relatedTarget)) {
        return;
    }
    input.dispatchEvent(new KeyboardEvent("keydown", {key: "Tab", code: "Tab", bubbles: true}));
});
