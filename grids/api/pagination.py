from rest_framework_gis.pagination import GeoJsonPagination


class FeaturePagination(GeoJsonPagination):
    """GeoJSON FeatureCollection pages; `page_size` may be asked for up to 1000."""

    page_size_query_param = "page_size"
    max_page_size = 1000
