// MapLibre's own words (its controls' titles, the canvas's label, the popup's close button,
// the scale's units) are English in its source; this is its `locale` option in the page's
// language, through gettext() (/jsi18n/, domain djangojs):
//   new maplibregl.Map({ ..., locale: maplibreLocale() })
export function maplibreLocale() {
  return {
    "AttributionControl.MapFeedback": gettext("Map feedback"),
    "AttributionControl.ToggleAttribution": gettext("Toggle attribution"),
    "CooperativeGesturesHandler.MacHelpText": gettext("Use ⌘ + scroll to zoom the map"),
    "CooperativeGesturesHandler.MobileHelpText": gettext("Use two fingers to move the map"),
    "CooperativeGesturesHandler.WindowsHelpText": gettext("Use Ctrl + scroll to zoom the map"),
    "FullscreenControl.Enter": gettext("Enter fullscreen"),
    "FullscreenControl.Exit": gettext("Exit fullscreen"),
    "GeolocateControl.FindMyLocation": gettext("Find my location"),
    "GeolocateControl.LocationNotAvailable": gettext("Location not available"),
    "GlobeControl.Disable": gettext("Disable globe"),
    "GlobeControl.Enable": gettext("Enable globe"),
    "LogoControl.Title": gettext("MapLibre logo"),
    "Map.Title": gettext("Map"),
    "Marker.Title": gettext("Map marker"),
    "NavigationControl.ResetBearing": gettext("Drag to rotate map, click to reset north"),
    "NavigationControl.ZoomIn": gettext("Zoom in"),
    "NavigationControl.ZoomOut": gettext("Zoom out"),
    "Popup.Close": gettext("Close popup"),
    "ScaleControl.Kilometers": pgettext("map scale", "km"),
    "ScaleControl.Meters": pgettext("map scale", "m"),
    "TerrainControl.Disable": gettext("Disable terrain"),
    "TerrainControl.Enable": gettext("Enable terrain"),
  };
}
