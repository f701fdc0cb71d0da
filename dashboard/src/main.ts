import { mount } from 'svelte';
import App from './App.svelte';
import Mobile from './mobile/Mobile.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('#app missing from index.html');
// One build, two pages: the control-room board at /, the grid worker's phone page at /m/.
const Root = location.pathname === '/m' || location.pathname.startsWith('/m/') ? Mobile : App;
export default mount(Root, { target });
