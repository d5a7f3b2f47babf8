// Asks for a token where the server wants one. It is kept for this tab's session only.
import { useState } from "preact/hooks";
import { setToken } from "./api";

export function TokenForm(props: { onDone: () => void }) {
  const [value, setValue] = useState("");
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value.trim());
        props.onDone();
      }}
    >
      <h1>This takt server wants a token</h1>
      <p>Ask whoever runs it for a read token (to watch), an operate token (a shift leader: to take alerts on and run the forecast) or a write token (to run jobs). It is kept for this browser tab only.</p>
      <label>
        Token
        <input type="password" autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} required minLength={16} />
      </label>
      <button type="submit">Use this token</button>
    </form>
  );
}
